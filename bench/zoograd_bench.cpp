// One benchmark process: zoograd's side of bench/run. Trains the MLP, the CNN or the atlas network
// (with its softmax or ArcFace head) on Fashion-MNIST held in memory (uint8, normalized per batch,
// exactly as bench/torch_bench.py does), timing each epoch and each pass of inference over the test
// set, or times loading the four IDX files. Prints one JSON object on stdout; bench/report.py reads it.
// With --steps K --dump FILE it stops after K steps and writes its state, which bench/compare_steps.py
// compares with torch_bench.py's after the same steps (see bench/README.md, "Step by step").
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <nlohmann/json.hpp>

#include "zoograd/core/ops.h"
#include "zoograd/core/io/serialize.h"
#include "zoograd/datasets/idx.h"
#include "zoograd/layers/conv2d.h"
#include "zoograd/layers/linear.h"
#include "zoograd/optim/sgd.h"
#include "zoograd/train/atlas/margins.h"
#include "zoograd/train/run/models.h"
#include "zoograd/train/run/objective.h"

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

double peak_rss_mib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;  // ru_maxrss is in KiB on Linux
}

struct FashionMnist {
  zg::Dataset train, test;
};

FashionMnist load(const std::string& dir) {
  return {zg::load_idx(dir + "/train-images-idx3-ubyte.gz", dir + "/train-labels-idx1-ubyte.gz", "train"),
          zg::load_idx(dir + "/t10k-images-idx3-ubyte.gz", dir + "/t10k-labels-idx1-ubyte.gz", "test")};
}

// Test accuracy over the whole test set in batches of 1000, without a graph.
double test_accuracy(zg::Sequential& model, const zg::Dataset& test, const zg::Normalize& norm) {
  zg::NoGradGuard no_grad;
  model.eval();
  std::int64_t correct = 0;
  std::vector<std::int64_t> idx;
  for (std::int64_t start = 0; start < test.size(); start += 1000) {
    idx.clear();
    for (std::int64_t i = start; i < std::min(test.size(), start + 1000); ++i) idx.push_back(i);
    zg::Batch b = zg::make_batch(test, idx, norm);
    correct += static_cast<std::int64_t>(zg::sum(zg::eq(zg::argmax(model.forward(b.x), 1), b.y)).item());
  }
  model.train();
  return static_cast<double>(correct) / static_cast<double>(test.size());
}

// What a task trains: the model, its objective and its SGD settings.
//   mlp, cnn: train/run/models.cpp's networks, cross-entropy, lr 0.1, momentum 0.9, batch 128.
//   atlas: the margin atlas's network (2-D features) with its "softmax" head (a linear layer with
//   bias, cross-entropy) or "arcface" head (a cosine head, ArcFace s = 10, m = 0.2, the margin
//   growing over the first epoch as the atlas grows it), lr 0.05, momentum 0.9, weight decay 5e-4,
//   batch 64.
struct Task {
  std::shared_ptr<zg::Sequential> model;
  zg::Objective objective;
  zg::SGDOptions sgd;
  std::int64_t batch_size;
};

Task make_task(const std::string& name, const std::string& head, const FashionMnist& data, zg::Generator& gen) {
  if (name != "atlas") {
    zg::TrainConfig config;
    config.model = name;
    return {zg::build_model(config, data.train.sample_shape, data.train.num_classes, gen),
            zg::Objective("cross_entropy", {}), {.lr = 0.1, .momentum = 0.9}, 128};
  }
  auto model = zg::margins_backbone(data.train.sample_shape, 2, gen);
  zg::Objective objective = head == "arcface" ? zg::Objective("arcface_loss", {{"s", 10}, {"m", 0.2}})
                                              : zg::Objective("cross_entropy", {});
  if (objective.needs_head())
    model->push_back(objective.make_head(2, data.train.num_classes, gen));
  else
    model->push_back(std::make_shared<zg::Linear>(2, data.train.num_classes, gen));
  objective.warm_up_margins((data.train.size() + 63) / 64);
  return {model, objective, {.lr = 0.05, .momentum = 0.9, .weight_decay = 5e-4}, 64};
}

// Floating-point operations per image of the convolutions and linear layers (2 per multiply-add),
// forward only and for a training step (the backward makes the weight gradients, and the input
// gradients of every layer but the first).
struct Flops {
  double inference = 0, training = 0;
};

Flops flops_per_image(zg::Sequential& model, const zg::Shape& sample) {
  zg::NoGradGuard no_grad;
  model.eval();
  zg::Shape batch = sample;
  batch.insert(batch.begin(), 1);
  zg::Tensor x = zg::zeros(batch);
  Flops f;
  bool first = true;
  for (std::size_t i = 0; i < model.size(); ++i) {
    zg::Tensor y = model[i](x);
    double macs = 0;
    if (auto* conv = dynamic_cast<zg::Conv2d*>(&model[i]))
      macs = static_cast<double>(y.numel() * conv->weight.numel() / conv->weight.size(0));
    else if (auto* linear = dynamic_cast<zg::Linear*>(&model[i]))
      macs = static_cast<double>(linear->weight.numel());
    if (macs > 0) {
      f.inference += 2 * macs;
      f.training += 2 * macs * (first ? 2 : 3);
      first = false;
    }
    x = y;
  }
  model.train();
  return f;
}

// What train_task starts from for a seed: the initial weights, and every epoch's batch order as an
// (epochs, 60000) "order" tensor. bench/torch_bench.py --init starts from the same, so that the
// two frameworks' accuracies differ by their arithmetic rather than by their random draws.
nlohmann::json init_task(const std::string& name, const std::string& head, const std::string& dir, int epochs,
                         std::uint64_t seed, const std::string& out) {
  FashionMnist data = load(dir);
  zg::Generator gen(seed);  // drawn from in the order train_task draws
  Task task = make_task(name, head, data, gen);
  zg::DataLoader loader(data.train, {.batch_size = task.batch_size, .shuffle = true}, gen);
  std::vector<std::int64_t> order;
  for (int e = 0; e < epochs; ++e)
    for (const auto& indices : loader.epoch_indices()) order.insert(order.end(), indices.begin(), indices.end());
  zg::NamedTensors tensors = task.model->named_parameters();
  tensors.emplace_back("order", zg::from_data(std::span<const std::int64_t>(order), {epochs, data.train.size()}));
  zg::save_safetensors(out, tensors);
  return {{"task", "init"}, {"model", name}, {"file", out}};
}

// What --steps/--dump ask of a training run: stop after `steps` optimizer steps (0: run every
// epoch), then write the parameters, buffers (BatchNorm's running statistics), the last step's
// gradients and loss to a safetensors file, for bench/compare_steps.py against torch_bench.py's.
struct StepDump {
  std::int64_t steps = 0;
  std::string file;
  bool float64 = false;  // the model and batches in float64, a reference nearly free of rounding
};

// Also the momentum buffers and the step count, so that torch_bench.py --resume can take the
// run over at that step and its next steps be compared with ours.
void dump_state(const std::string& file, zg::Sequential& model, const zg::SGD& optimizer, const zg::Tensor& loss,
                std::int64_t step) {
  zg::NamedTensors tensors;
  const zg::NamedTensors params = model.named_parameters();
  for (const auto& [name, p] : params) {
    tensors.emplace_back(name, p);
    if (p.grad().defined()) tensors.emplace_back("grad." + name, p.grad());
  }
  for (const auto& [name, b] : model.named_buffers()) tensors.emplace_back(name, b);
  const zg::NamedTensors state = optimizer.state_dict();  // "group.index.momentum_buffer"
  for (std::size_t i = 0; i < params.size(); ++i)
    for (const auto& [key, buf] : state)
      if (key == "0." + std::to_string(i) + ".momentum_buffer") tensors.emplace_back("momentum." + params[i].first, buf);
  tensors.emplace_back("loss", zg::reshape(loss.detach(), {1}));
  tensors.emplace_back("step", zg::full({1}, static_cast<double>(step), zg::DType::Int64));
  zg::save_safetensors(file, tensors);
}

nlohmann::json train_task(const std::string& name, const std::string& head, const std::string& dir, int epochs,
                          std::uint64_t seed, const StepDump& dump = {}) {
  FashionMnist data = load(dir);
  zg::Generator gen(seed);
  Task task = make_task(name, head, data, gen);
  zg::Sequential& model = *task.model;
  if (dump.float64) model.to(zg::DType::Float64);
  zg::SGD optimizer(model.parameters(), task.sgd);
  zg::Normalize norm = zg::pixel_stats(data.train);
  if (dump.float64) norm.dtype = zg::DType::Float64;
  zg::DataLoader loader(data.train, {.batch_size = task.batch_size, .shuffle = true, .normalize = norm}, gen);

  std::vector<double> epoch_seconds, inference_seconds;
  double accuracy = 0;
  std::int64_t step = 0;
  zg::Tensor loss;
  for (int e = 0; e < epochs && (dump.steps == 0 || step < dump.steps); ++e) {
    auto start = Clock::now();
    for (const auto& indices : loader.epoch_indices()) {
      if (dump.steps > 0 && step == dump.steps) break;
      zg::Batch b = loader.batch(indices);
      loss = task.objective(model, b.x, b.y, step++).loss;
      optimizer.zero_grad();
      loss.backward();
      optimizer.step();
    }
    epoch_seconds.push_back(seconds_since(start));
    start = Clock::now();
    accuracy = test_accuracy(model, data.test, norm);
    inference_seconds.push_back(seconds_since(start));
  }
  nlohmann::json result = {{"task", name},
                           {"epoch_seconds", epoch_seconds},
                           {"inference_seconds", inference_seconds},
                           {"train_images", data.train.size()},
                           {"test_images", data.test.size()},
                           {"test_accuracy", accuracy},
                           {"peak_rss_mib", peak_rss_mib()},
                           {"peak_tensor_mib", static_cast<double>(zg::memory_stats().peak_bytes) / (1 << 20)}};
  if (dump.steps > 0) result["steps"] = step;
  if (!dump.file.empty()) dump_state(dump.file, model, optimizer, loss, step);
  if (name == "atlas") {
    const Flops flops = flops_per_image(model, data.train.sample_shape);
    result["head"] = head;
    result["flops_per_image"] = {{"training", flops.training}, {"inference", flops.inference}};
  }
  return result;
}

nlohmann::json load_task(const std::string& dir, int repeats) {
  std::vector<double> seconds;
  std::int64_t images = 0;
  for (int r = 0; r < repeats; ++r) {
    auto start = Clock::now();
    FashionMnist data = load(dir);
    seconds.push_back(seconds_since(start));
    images = data.train.size() + data.test.size();
  }
  return {{"task", "load"}, {"load_seconds", seconds}, {"images", images}, {"peak_rss_mib", peak_rss_mib()}};
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"zoograd's side of the benchmark against PyTorch (bench/run starts it)"};
  std::string task, dir = "/usr/share/datasets/fashion-mnist", model = "mlp", head = "softmax", out;
  int epochs = 3;
  std::uint64_t seed = 0;
  app.add_option("task", task, "mlp, cnn, atlas, load, or init (the start of a seed's training run, for PyTorch)")
      ->required()
      ->check(CLI::IsMember({"mlp", "cnn", "atlas", "load", "init"}));
  app.add_option("--data", dir, "folder with Fashion-MNIST's four .gz IDX files")->check(CLI::ExistingDirectory);
  app.add_option("--epochs", epochs, "training epochs (or load repetitions)")->check(CLI::Range(1, 1000));
  app.add_option("--seed", seed, "initialization and shuffling seed");
  app.add_option("--model", model, "init: the model whose start to write")->check(CLI::IsMember({"mlp", "cnn", "atlas"}));
  app.add_option("--head", head, "atlas: the head and loss, softmax or arcface")
      ->check(CLI::IsMember({"softmax", "arcface"}));
  app.add_option("--out", out, "init: the safetensors file to write");
  StepDump dump;
  app.add_option("--steps", dump.steps, "mlp, cnn, atlas: stop after this many optimizer steps (0: all epochs)")
      ->check(CLI::NonNegativeNumber);
  app.add_flag("--float64", dump.float64, "mlp, cnn, atlas: train in float64 (to compare against a rounding-free reference)");
  app.add_option("--dump", dump.file, "mlp, cnn, atlas: write the parameters, buffers, last gradients and loss there");
  CLI11_PARSE(app, argc, argv);
  if (task == "init" && out.empty()) {
    std::cerr << "zoograd_bench: init needs --out FILE, the safetensors file to write\n";
    return 2;
  }
  try {
    nlohmann::json result = task == "load"   ? load_task(dir, epochs)
                            : task == "init" ? init_task(model, head, dir, epochs, seed, out)
                                             : train_task(task, head, dir, epochs, seed, dump);
    result["framework"] = "zoograd";
    const char* threads = std::getenv("OPENBLAS_NUM_THREADS");
    result["openblas_num_threads"] = threads ? threads : "unset";
    std::cout << result.dump() << "\n";
  } catch (const std::exception& e) {
    std::cerr << "zoograd_bench: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
