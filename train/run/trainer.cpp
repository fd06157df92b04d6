#include "zoograd/train/run/trainer.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <optional>

#include "zoograd/core/kernels/parallel.h"
#include "zoograd/core/io/serialize.h"
#include "zoograd/datasets/registry.h"
#include "zoograd/optim/clip.h"
#include "zoograd/optim/schedule.h"
#include "zoograd/optim/sgd.h"
#include "zoograd/train/run/checkpoint.h"
#include "zoograd/train/run/data_parallel.h"
#include "zoograd/train/run/distributed.h"
#include "zoograd/train/run/interrupt.h"
#include "zoograd/train/run/models.h"
#include "zoograd/train/run/objective.h"
#include "zoograd/train/run/progress.h"
#include "zoograd/train/run/run_folder.h"
#include "zoograd/train/run/values.h"

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
  if (data.size() == 0)
    throw std::invalid_argument("evaluate: data set " + data.name + " is empty, so its loss and accuracy are undefined");
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
                        std::int64_t& step, Progress& progress, const EpochOptions& options) {
  const World& ranks = options.ranks;
  EpochTotals t;
  model.train();
  const std::vector<Tensor> params = model.parameters();
  for (const auto& indices : loader.epoch_indices()) {
    if (options.lr_at_step)
      for (ParamGroup& group : optimizer.param_groups()) group.options.lr = options.lr_at_step(step);
    // Under mpirun every rank walks the same batches and takes its slice of each (distributed.h);
    // one process takes the whole batch.
    const auto n = static_cast<std::int64_t>(indices.size());
    const auto [first, last] = ranks.distributed() ? rank_slice(n) : std::pair<std::int64_t, std::int64_t>{0, n};
    // The batch's loss summed over its samples, its right answers, and a signal that asks to stop
    // (its number and the ranks that received it).
    const int signal = pending_interrupt();
    std::vector<double> sums = {0, 0, static_cast<double>(signal), signal != 0 ? 1.0 : 0.0};
    optimizer.zero_grad();
    if (last > first) {
      Batch b = loader.batch(std::span(indices).subspan(static_cast<std::size_t>(first), static_cast<std::size_t>(last - first)));
      auto [loss, scores] = objective(model, b.x, b.y, step);
      sums[0] = loss.item() * static_cast<double>(last - first);
      sums[1] = sum(eq(argmax(scores.detach(), 1), b.y)).item();
      if (std::isfinite(sums[0]) && signal == 0) loss.backward();
    }
    // The slice's mean loss weighted by its share of the batch: the ranks' gradients add up to the
    // gradient of the whole batch's mean, however unevenly the batch divides.
    if (ranks.distributed()) sum_gradients(params, static_cast<double>(last - first) / static_cast<double>(n), sums);
    if (sums[3] != 0) {  // the safe point, between two steps, on every rank at once
      progress.finish();
      if (pending_interrupt() == 0) set_pending_interrupt(static_cast<int>(std::lround(sums[2] / sums[3])));
      stop_if_interrupted();
    }
    const double value = sums[0] / static_cast<double>(n);
    if (!std::isfinite(value))
      throw DivergenceError("training diverged: the loss is " + format_value(value) + " at step " +
                            std::to_string(step + 1) + " with learning rate " +
                            format_value(optimizer.param_groups()[0].options.lr) +
                            "; that step was not taken. Lower --lr, or rerun with --detect-anomaly to find the op "
                            "that first produced a NaN or Inf");
    if (options.clip_grad_norm > 0) clip_grad_norm_(params, options.clip_grad_norm);
    optimizer.step();
    ++step;
    t.loss_sum += sums[0];
    t.correct += static_cast<std::int64_t>(sums[1]);
    t.seen += n;
    progress.update(t.seen, t.mean_loss(), t.accuracy());
  }
  progress.finish();
  return t;
}

namespace {

// Opens a new run's folder: config.out, or the first free runs/<data>-<model>[-N].
void open_new_folder(std::optional<RunFolder>& folder, const TrainConfig& c, bool overwrite) {
  if (!c.out.empty()) {
    folder.emplace(c.out, overwrite ? RunFolder::Start::Overwrite : RunFolder::Start::New);
    return;
  }
  std::string base = "runs/" + c.data + "-" + c.model;
  for (char& ch : base)
    if (ch == ':' || ch == ',') ch = '_';
  for (int k = 1;; ++k) {
    std::string dir = k == 1 ? base : base + "-" + std::to_string(k);
    if (fs::exists(dir)) continue;
    try {
      folder.emplace(dir, RunFolder::Start::New);
      return;
    } catch (const UsageError&) {
      if (!fs::exists(dir)) throw;  // else another process took the name first: try the next
    }
  }
}

// The settings a resumed run may change; every other one must match the saved run.
bool changeable(const std::string& key) {
  return key == "epochs" || key == "threads" || key == "quiet" || key == "detect_anomaly";
}

std::string flag_text(const TrainSetting& s, const TrainConfig& c) {
  std::string text;
  for (const std::string& t : s.get(c)) text += (text.empty() ? "" : ",") + t;
  return s.flag + " " + (text.empty() ? "\"\"" : text);
}

// The saved run's settings with the changeable ones requested applied (logged); throws UsageError
// listing every requested setting that contradicts the saved run.
TrainConfig reconcile(const TrainConfig& requested, const TrainConfig& saved, const std::string& dir,
                      std::int64_t epochs_done) {
  TrainConfig config = saved;
  std::string contradictions;
  std::vector<std::string> changes;
  for (const TrainSetting& s : train_settings()) {
    if (s.get(requested) == s.get(saved)) continue;
    if (s.key == "out") {
      std::error_code ec;
      if (requested.out.empty() || fs::weakly_canonical(requested.out, ec) == fs::weakly_canonical(dir, ec)) continue;
    } else if (changeable(s.key)) {
      s.set(config, s.flag, s.get(requested));
      changes.push_back(flag_text(s, requested) + " (the saved run has " + flag_text(s, saved) + ")");
      continue;
    }
    contradictions += (contradictions.empty() ? "" : ", ") + flag_text(s, requested) + " (the run has " +
                      flag_text(s, saved) + ")";
  }
  if (!contradictions.empty())
    throw UsageError("--resume " + dir + ": " + contradictions +
                     " contradict the saved run, which keeps its set-up; drop them, or start a new run with "
                     "another --out");
  if (config.epochs <= epochs_done)
    throw UsageError("--resume " + dir + ": the run has trained " + std::to_string(epochs_done) + " of its " +
                     std::to_string(config.epochs) + " epochs; pass --epochs N with N > " + std::to_string(epochs_done) +
                     " to train on");
  for (const std::string& change : changes) spdlog::info("resuming {} with {}", dir, change);
  config.out = dir;
  return config;
}

void require_samples(const DataSplit& data, const std::string& spec) {
  for (const Dataset* d : {&data.train, &data.test})
    if (d->size() == 0)
      throw std::runtime_error("data set " + spec + ": the " + (d == &data.train ? "train" : "test") +
                               " split is empty; zoograd trains on the one and reports accuracy on the other");
}

}  // namespace

TrainConfig resumed_config(const std::string& dir) {
  Checkpoint saved = read_latest_checkpoint(dir);
  TrainConfig config = TrainConfig::from_json(saved.config, saved.path);
  config.out = dir;
  return config;
}

TrainResult run_train(const TrainConfig& requested, const RunStart& start) {
  requested.validate();
  TrainConfig config = requested;
  std::optional<RunFolder> folder;  // rank 0's alone under mpirun
  std::optional<Checkpoint> resume;
  const auto [dir, run_id] = on_root([&] {
    if (start.resume.empty()) {
      open_new_folder(folder, config, start.overwrite);
      return std::pair{folder->path(), folder->id()};
    }
    folder.emplace(start.resume, RunFolder::Start::Resume);
    resume = read_latest_checkpoint(start.resume);
    if (const std::string& id = resume->state.run_id; !id.empty()) {
      if (recorded_run_id(start.resume).empty()) folder->adopt(id);  // run.json was not written yet
      if (folder->id() != id)
        throw UsageError("--resume " + start.resume + ": " + resume->path + " belongs to run " + id + ", not to run " +
                         folder->id() + " of run.json; the folder mixes two runs, so it resumes neither");
    }
    return std::pair{folder->path(), folder->id()};
  });
  // The other ranks read the checkpoint rank 0 chose (the run folder is shared, as on one machine).
  if (!start.resume.empty() && !resume) resume = read_latest_checkpoint(start.resume);
  if (resume)
    config = reconcile(requested, TrainConfig::from_json(resume->config, resume->path), start.resume,
                       resume->state.epoch);
  config.out = dir;
  if (config.threads > 0) set_num_threads(static_cast<int>(config.threads));
  std::optional<DetectAnomalyGuard> anomaly;
  if (config.detect_anomaly) anomaly.emplace();

  DataSplit data = load_dataset(config.data, config.seed);
  require_samples(data, config.data);
  check_model_fits(config, data.train.sample_shape, data.train.num_classes,
                   std::min(config.batch_size, std::max<std::int64_t>(data.train.size(), 1000)));
  Normalize norm = pixel_stats(data.train);
  norm.dtype = config.tensor_dtype();  // the batches, as the model's parameters (build_model)
  Generator gen(config.seed);
  std::shared_ptr<Sequential> model = build_model(config, data.train.sample_shape, data.train.num_classes, gen);
  const Objective objective(config.loss, config.loss_params);
  SGD optimizer(model->parameters(), {.lr = config.lr, .momentum = config.momentum, .weight_decay = config.weight_decay});
  Schedule schedule = Schedule::parse(config.schedule);

  TrainingState state;
  if (resume) {
    state = restore_checkpoint(*resume, *model, optimizer, gen);
    spdlog::info("resuming {} after epoch {} (step {})", resume->path, state.epoch, state.step);
    resume.reset();  // frees the file's copy of the weights
  }
  state.run_id = run_id;
  nlohmann::json config_json = config.to_json();

  DataLoader loader(data.train, {.batch_size = config.batch_size, .shuffle = true, .normalize = norm}, gen);
  Evaluation test;
  try {
    for (std::int64_t epoch = state.epoch + 1; epoch <= config.epochs; ++epoch) {
      double lr = schedule.lr_at(config.lr, epoch - 1);
      optimizer.param_groups()[0].options.lr = lr;
      auto begin = std::chrono::steady_clock::now();
      const double summing_before = gradient_sum_seconds();
      Progress progress(epoch, config.epochs, data.train.size(), !config.quiet && world().root());
      EpochTotals totals = train_epoch(*model, objective, optimizer, loader, state.step, progress, {.ranks = world()});
      double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
      test = evaluate_over_ranks(*model, data.test, norm, objective, state.step);
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
      if (world().distributed())
        spdlog::info("epoch {}: {} ranks, gradient all-reduce {:.2f} s on rank 0 (waits for the slowest rank included)",
                     epoch, world().size, gradient_sum_seconds() - summing_before);
      if (!world().root()) continue;  // rank 0 alone writes the run folder
      folder->record();  // run.json first: a folder with a checkpoint always says whose it is
      save_safetensors((fs::path(dir) / "model.safetensors").string(), model->state_dict(),
                       {{"config", config_json.dump()}, {"step", std::to_string(state.step)}, {"run", state.run_id}});
      save_checkpoint(dir, *model, optimizer, gen, state, config_json);
      write_run_report(dir, config_json, state.metrics, test.confusion, data.train.class_names);
    }
  } catch (const Interrupted& e) {
    throw Interrupted(e.signal, std::string(e.what()) + " during epoch " + std::to_string(state.epoch + 1) + "; " +
                                    (state.epoch > 0 ? dir + " keeps epoch " + std::to_string(state.epoch) +
                                                           "; continue with: zoograd train --resume " + dir
                                                     : "no epoch was complete, so nothing was saved"));
  }
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
  require_samples(data, config.data);
  check_model_fits(config, data.train.sample_shape, data.train.num_classes, 1000);
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
  Normalize norm = pixel_stats(data.train);
  norm.dtype = config.tensor_dtype();
  return evaluate(*model, data.test, norm, Objective(config.loss, config.loss_params), steps);
}

}  // namespace zg
