#include "train/trainer.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <optional>

#include "core/parallel.h"
#include "core/serialize.h"
#include "datasets/registry.h"
#include "optim/schedule.h"
#include "optim/sgd.h"
#include "train/checkpoint.h"
#include "train/models.h"
#include "train/objective.h"
#include "train/progress.h"

namespace zg {

namespace fs = std::filesystem;

namespace {
// %g keeps small and large learning rates readable (std::to_string prints 1e-05 as 0.000010);
// a NaN's sign bit means nothing to a reader.
std::string format_value(double v) {
  if (std::isnan(v)) return "nan";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}
}  // namespace

Evaluation evaluate(Sequential& model, const Dataset& data, const Normalize& norm, const Objective& objective,
                    std::int64_t step, std::int64_t batch_size) {
  NoGradGuard no_grad;
  bool was_training = model.is_training();
  model.eval();
  Evaluation e;
  e.confusion.assign(static_cast<std::size_t>(data.num_classes), std::vector<std::int64_t>(static_cast<std::size_t>(data.num_classes)));
  std::vector<std::int64_t> idx;
  double loss_sum = 0;
  std::int64_t correct = 0;
  for (std::int64_t start = 0; start < data.size(); start += batch_size) {
    idx.clear();
    for (std::int64_t i = start; i < std::min(data.size(), start + batch_size); ++i) idx.push_back(i);
    Batch b = make_batch(data, idx, norm);
    ObjectiveOutput out = objective(model, b.x, b.y, step);
    loss_sum += out.loss.item() * static_cast<double>(idx.size());
    Tensor pred = argmax(out.scores, 1);
    const auto* p = pred.data<std::int64_t>();
    const auto* y = b.y.data<std::int64_t>();
    for (std::int64_t i = 0; i < pred.numel(); ++i) {
      correct += p[i] == y[i];
      ++e.confusion[static_cast<std::size_t>(y[i])][static_cast<std::size_t>(p[i])];
    }
  }
  model.train(was_training);
  double n = static_cast<double>(std::max<std::int64_t>(data.size(), 1));
  e.loss = loss_sum / n;
  e.accuracy = static_cast<double>(correct) / n;
  return e;
}

EpochTotals train_epoch(Sequential& model, const Objective& objective, SGD& optimizer, DataLoader& loader,
                        std::int64_t& step, Progress& progress, const std::function<double(std::int64_t step)>& lr_at_step) {
  EpochTotals t;
  model.train();
  for (const auto& indices : loader.epoch_indices()) {
    if (lr_at_step)
      for (ParamGroup& group : optimizer.param_groups()) group.options.lr = lr_at_step(step);
    Batch b = loader.batch(indices);
    auto [loss, scores] = objective(model, b.x, b.y, step);
    const double value = loss.item();
    if (!std::isfinite(value))
      throw DivergenceError("training diverged: the loss is " + format_value(value) + " at step " +
                            std::to_string(step + 1) + " with learning rate " +
                            format_value(optimizer.param_groups()[0].options.lr) +
                            "; that step was not taken. Lower --lr, or rerun with --detect-anomaly to find the op "
                            "that first produced a NaN or Inf");
    optimizer.zero_grad();
    loss.backward();
    optimizer.step();
    ++step;
    auto n = static_cast<std::int64_t>(indices.size());
    t.loss_sum += value * static_cast<double>(n);
    t.correct += static_cast<std::int64_t>(sum(eq(argmax(scores.detach(), 1), b.y)).item());
    t.seen += n;
    progress.update(t.seen, t.mean_loss(), t.accuracy());
  }
  progress.finish();
  return t;
}

namespace {

std::string pick_run_dir(const TrainConfig& c) {
  if (!c.out.empty()) return c.out;
  std::string base = "runs/" + c.data + "-" + c.model;
  for (char& ch : base)
    if (ch == ':' || ch == ',') ch = '_';
  std::string dir = base;
  for (int k = 2; fs::exists(dir); ++k) dir = base + "-" + std::to_string(k);
  return dir;
}

}  // namespace

TrainResult run_train(const TrainConfig& requested, const std::string& resume_dir) {
  TrainConfig config = requested;
  std::optional<Checkpoint> resume;
  if (!resume_dir.empty()) {
    resume = read_latest_checkpoint(resume_dir);
    TrainConfig saved = TrainConfig::from_json(resume->config, resume->path);
    saved.epochs = requested.epochs;
    saved.quiet = requested.quiet;
    saved.detect_anomaly = requested.detect_anomaly;
    saved.out = resume_dir;
    config = saved;
  }
  config.validate();
  if (config.threads > 0) set_num_threads(static_cast<int>(config.threads));
  std::optional<DetectAnomalyGuard> anomaly;
  if (config.detect_anomaly) anomaly.emplace();

  DataSplit data = load_dataset(config.data, config.seed);
  Normalize norm = pixel_stats(data.train);
  Generator gen(config.seed);
  std::shared_ptr<Sequential> model = build_model(config, data.train.sample_shape, data.train.num_classes, gen);
  const Objective objective(config.loss, config.loss_params);
  SGD optimizer(model->parameters(), {config.lr, config.momentum, 0.0, config.weight_decay, false});
  Schedule schedule = Schedule::parse(config.schedule);

  TrainingState state;
  if (resume) {
    state = restore_checkpoint(*resume, *model, optimizer, gen);
    spdlog::info("resuming {} after epoch {} (step {})", resume->path, state.epoch, state.step);
    resume.reset();  // frees the file's copy of the weights
  }
  std::string dir = pick_run_dir(config);
  config.out = dir;
  fs::create_directories(dir);
  nlohmann::json config_json = config.to_json();

  DataLoader loader(data.train, config.batch_size, true, gen, norm);
  Evaluation test;
  for (std::int64_t epoch = state.epoch + 1; epoch <= config.epochs; ++epoch) {
    double lr = schedule.lr_at(config.lr, epoch - 1);
    optimizer.param_groups()[0].options.lr = lr;
    auto start = std::chrono::steady_clock::now();
    Progress progress(epoch, config.epochs, data.train.size(), !config.quiet);
    EpochTotals totals = train_epoch(*model, objective, optimizer, loader, state.step, progress);
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    test = evaluate(*model, data.test, norm, objective, state.step);
    nlohmann::json m = {{"epoch", epoch},
                        {"step", state.step},
                        {"lr", lr},
                        {"train_loss", totals.mean_loss()},
                        {"train_accuracy", totals.accuracy()},
                        {"test_loss", test.loss},
                        {"test_accuracy", test.accuracy},
                        {"seconds", seconds},
                        {"samples_per_second", static_cast<double>(totals.seen) / seconds}};
    if (std::optional<double> lambda = objective.lambda(state.step)) m["lambda"] = *lambda;
    state.metrics.push_back(m);
    state.epoch = epoch;
    if (!config.quiet)
      spdlog::info("epoch {}/{}  lr {:.4g}  train loss {:.4f} acc {:.4f}  test loss {:.4f} acc {:.4f}  {:.1f} s ({:.0f} samples/s)",
                   epoch, config.epochs, lr, m["train_loss"].get<double>(), m["train_accuracy"].get<double>(), test.loss,
                   test.accuracy, seconds, m["samples_per_second"].get<double>());
    save_safetensors((fs::path(dir) / "model.safetensors").string(), model->state_dict(),
                     {{"config", config_json.dump()}, {"step", std::to_string(state.step)}});
    save_checkpoint(dir, *model, optimizer, gen, state, config_json);
    write_run_report(dir, config_json, state.metrics, test.confusion, data.train.class_names);
  }
  if (state.metrics.empty()) throw std::invalid_argument("nothing to train: --epochs " + std::to_string(config.epochs));
  return {dir, state.metrics.back()["test_accuracy"].get<double>()};
}

Evaluation run_eval(const std::string& run_dir, const std::string& data_spec, std::vector<std::string>* class_names) {
  std::string path = (fs::path(run_dir) / "model.safetensors").string();
  if (!fs::exists(path))
    throw std::invalid_argument("--model: " + path + " does not exist; pass a run folder written by zoograd train");
  SafetensorsFile file = load_safetensors(path);
  auto cfg = file.metadata.find("config");
  if (cfg == file.metadata.end()) throw std::invalid_argument(path + ": no config in the metadata; not written by zoograd train");
  TrainConfig config = TrainConfig::from_json(nlohmann::json::parse(cfg->second), path);
  if (!data_spec.empty()) config.data = data_spec;
  if (config.threads > 0) set_num_threads(static_cast<int>(config.threads));
  DataSplit data = load_dataset(config.data, config.seed);
  Generator gen(config.seed);
  std::shared_ptr<Sequential> model = build_model(config, data.train.sample_shape, data.train.num_classes, gen);
  try {
    model->load_state_dict(file.tensors);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(path + " does not fit the data set " + config.data + ": " + e.what());
  }
  if (class_names) *class_names = data.test.class_names;
  // The step sets the λ of an annealed loss (sphereface_loss) in the test loss.
  auto step = file.metadata.find("step");
  std::int64_t steps = 0;
  try {
    if (step != file.metadata.end()) steps = std::stoll(step->second);
  } catch (const std::exception&) {
    throw std::invalid_argument(path + ": the metadata's step \"" + step->second + "\" is not a whole number");
  }
  return evaluate(*model, data.test, pixel_stats(data.train), Objective(config.loss, config.loss_params), steps);
}

}  // namespace zg
