// One benchmark process: zoograd's side of bench/run. Trains the MLP or the CNN of the issue on
// Fashion-MNIST held in memory (uint8, normalized per batch, exactly as bench/torch_bench.py does),
// timing each epoch and each pass of inference over the test set, or times loading the four IDX
// files. Prints one JSON object on stdout; bench/report.py reads it.
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <nlohmann/json.hpp>

#include "core/ops.h"
#include "core/serialize.h"
#include "datasets/idx.h"
#include "losses/classification.h"
#include "optim/sgd.h"
#include "train/models.h"

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

std::shared_ptr<zg::Sequential> build(const std::string& model_name, const FashionMnist& data, zg::Generator& gen) {
  zg::TrainConfig config;
  config.model = model_name;
  return zg::build_model(config, data.train.sample_shape, data.train.num_classes, gen);
}

// What train_task starts from for a seed: the initial weights, and every epoch's batch order as an
// (epochs, 60000) "order" tensor. bench/torch_bench.py --init starts from the same, so that the
// two frameworks' accuracies differ by their arithmetic rather than by their random draws.
nlohmann::json init_task(const std::string& model_name, const std::string& dir, int epochs, std::uint64_t seed,
                         const std::string& out) {
  FashionMnist data = load(dir);
  zg::Generator gen(seed);  // drawn from in the order train_task draws
  auto model = build(model_name, data, gen);
  zg::DataLoader loader(data.train, 128, true, gen);
  std::vector<std::int64_t> order;
  for (int e = 0; e < epochs; ++e)
    for (const auto& indices : loader.epoch_indices()) order.insert(order.end(), indices.begin(), indices.end());
  zg::NamedTensors tensors = model->named_parameters();
  tensors.emplace_back("order", zg::from_data(std::span<const std::int64_t>(order), {epochs, data.train.size()}));
  zg::save_safetensors(out, tensors);
  return {{"task", "init"}, {"model", model_name}, {"file", out}};
}

nlohmann::json train_task(const std::string& model_name, const std::string& dir, int epochs, std::uint64_t seed) {
  FashionMnist data = load(dir);
  zg::Generator gen(seed);
  auto model = build(model_name, data, gen);
  zg::SGD optimizer(model->parameters(), {.lr = 0.1, .momentum = 0.9});
  const zg::Normalize norm = zg::pixel_stats(data.train);
  zg::DataLoader loader(data.train, 128, true, gen, norm);

  std::vector<double> epoch_seconds, inference_seconds;
  double accuracy = 0;
  for (int e = 0; e < epochs; ++e) {
    auto start = Clock::now();
    for (const auto& indices : loader.epoch_indices()) {
      zg::Batch b = loader.batch(indices);
      zg::Tensor loss = zg::cross_entropy(model->forward(b.x), b.y);
      optimizer.zero_grad();
      loss.backward();
      optimizer.step();
    }
    epoch_seconds.push_back(seconds_since(start));
    start = Clock::now();
    accuracy = test_accuracy(*model, data.test, norm);
    inference_seconds.push_back(seconds_since(start));
  }
  return {{"task", model_name},
          {"epoch_seconds", epoch_seconds},
          {"inference_seconds", inference_seconds},
          {"test_accuracy", accuracy},
          {"peak_rss_mib", peak_rss_mib()},
          {"peak_tensor_mib", static_cast<double>(zg::memory_stats().peak_bytes) / (1 << 20)}};
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
  std::string task, dir = "/usr/share/datasets/fashion-mnist", model = "mlp", out;
  int epochs = 3;
  std::uint64_t seed = 0;
  app.add_option("task", task, "mlp, cnn, load, or init (the start of a seed's mlp or cnn run, for PyTorch)")
      ->required()
      ->check(CLI::IsMember({"mlp", "cnn", "load", "init"}));
  app.add_option("--data", dir, "folder with Fashion-MNIST's four .gz IDX files")->check(CLI::ExistingDirectory);
  app.add_option("--epochs", epochs, "training epochs (or load repetitions)")->check(CLI::Range(1, 1000));
  app.add_option("--seed", seed, "initialization and shuffling seed");
  app.add_option("--model", model, "init: the model whose start to write")->check(CLI::IsMember({"mlp", "cnn"}));
  app.add_option("--out", out, "init: the safetensors file to write");
  CLI11_PARSE(app, argc, argv);
  if (task == "init" && out.empty()) {
    std::cerr << "zoograd_bench: init needs --out FILE, the safetensors file to write\n";
    return 2;
  }
  try {
    nlohmann::json result = task == "load"   ? load_task(dir, epochs)
                            : task == "init" ? init_task(model, dir, epochs, seed, out)
                                             : train_task(task, dir, epochs, seed);
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
