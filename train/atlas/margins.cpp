#include "zoograd/train/atlas/margins.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <exception>
#include <numbers>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "zoograd/core/ops.h"
#include "zoograd/core/kernels/parallel.h"
#include "zoograd/datasets/registry.h"
#include "zoograd/layers/activation.h"
#include "zoograd/layers/batchnorm.h"
#include "zoograd/layers/conv2d.h"
#include "zoograd/layers/flatten.h"
#include "zoograd/layers/linear.h"
#include "zoograd/layers/pooling.h"
#include "zoograd/layers/sequential.h"
#include "zoograd/optim/sgd.h"
#include "zoograd/train/run/distributed.h"
#include "zoograd/train/atlas/margin_regions.h"
#include "zoograd/train/atlas/margins_distributed.h"
#include "zoograd/train/run/progress.h"
#include "zoograd/train/run/interrupt.h"
#include "zoograd/train/run/trainer.h"
#include "zoograd/train/run/values.h"

namespace zg {

const std::vector<MarginPanel>& margin_panels() {
  // 10 classes share the circle, 36° apart: a margin must fit inside that. CosFace needs
  // cos 0 - m > cos 36°, i.e. m < 0.19 even for a feature right on its weight; ArcFace's θ + m
  // must stay below the 18° to the boundary, m < 0.31 rad. A scale of 10–16 lets the loss reach
  // a 99% probability (NormFace's bound asks s ≥ 6.1 for C = 10) without the steep gradients of
  // s = 30–64, which are meant for hundreds of dimensions. With a margin the target's lead over a
  // neighbour 36° away is only s·(1 - m - cos 36°) for CosFace at best: s = 16 rather than 10 raised
  // MNIST test accuracy (4 epochs, seeds 0 and 1) from 0.968/0.960 to 0.970/0.975 (CosFace) and
  // 0.961/0.964 to 0.980/0.963 (ArcFace); s = 24 was worse (NormFace 0.55 on seed 0).
  static const std::vector<MarginPanel> panels = [] {
    LambdaSchedule lsoftmax_anneal;  // SphereFace's schedule, also for L-Softmax
    std::vector<MarginPanel> p = {
        {"softmax", "softmax with bias", "cross_entropy", {}, std::nullopt},
        {"modified-softmax", "modified softmax (|W| = 1, no bias)", "modified_softmax_loss", {}, std::nullopt},
        {"normface", "NormFace s=16", "normface_loss", {{"s", 16}}, std::nullopt},
    };
    for (int m = 1; m <= 4; ++m)
      p.push_back({"lsoftmax-m" + std::to_string(m), "L-Softmax m=" + std::to_string(m), "lsoftmax_loss",
                   {{"m", m}},
                   lsoftmax_anneal});
    p.push_back({"sphereface", "A-Softmax (SphereFace) m=4", "sphereface_loss", {{"m", 4}}, std::nullopt});
    p.push_back({"cosface", "CosFace s=16 m=0.1", "cosface_loss", {{"s", 16}, {"m", 0.1}}, std::nullopt});
    p.push_back({"arcface", "ArcFace s=16 m=0.2", "arcface_loss", {{"s", 16}, {"m", 0.2}}, std::nullopt});
    p.push_back({"combined", "combined s=16 m1=1 m2=0.1 m3=0.05", "combined_margin_loss",
                 {{"s", 16}, {"m1", 1}, {"m2", 0.1}, {"m3", 0.05}}, std::nullopt});
    return p;
  }();
  return panels;
}

namespace {
// The title's key=value words with the panel's own values, so that a --set shows in the pictures.
std::string titled(const MarginPanel& p) {
  std::istringstream words(p.title);
  std::string title;
  for (std::string word; words >> word;) {
    const std::size_t eq = word.find('=');
    if (eq != std::string::npos && p.params.contains(word.substr(0, eq)))
      word = word.substr(0, eq + 1) + number_text(p.params.at(word.substr(0, eq)));
    title += (title.empty() ? "" : " ") + word;
  }
  return title;
}
}  // namespace

std::int64_t MarginsOptions::jobs_to_run() const {
  return jobs > 0 ? jobs : std::max<std::int64_t>(1, std::thread::hardware_concurrency());
}

std::vector<MarginPanel> MarginsOptions::resolved_panels() const {
  if (dim != 2 && dim != 3) throw std::invalid_argument("--dim: must be 2 or 3, got " + std::to_string(dim));
  std::string known;
  for (const MarginPanel& p : margin_panels()) known += (known.empty() ? "" : ", ") + p.name;
  if (quick && !losses.empty()) throw std::invalid_argument("--quick: it picks its own panels; leave out --losses");
  const std::vector<std::string> names =
      quick ? std::vector<std::string>{"softmax", "sphereface", "cosface", "arcface"} : losses;
  std::vector<MarginPanel> chosen;
  for (const std::string& name : names) {
    auto it = std::find_if(margin_panels().begin(), margin_panels().end(),
                           [&](const MarginPanel& p) { return p.name == name; });
    if (it == margin_panels().end())
      throw std::invalid_argument("--losses: unknown panel \"" + name + "\"; choose from " + known);
    chosen.push_back(*it);
  }
  if (names.empty()) chosen = margin_panels();
  for (const std::string& kv : set) {
    auto dot = kv.substr(0, kv.find('=')).find('.');
    if (dot == std::string::npos)
      throw std::invalid_argument("--set " + kv + ": expected PANEL.key=value, e.g. cosface.m=0.15");
    auto it = std::find_if(chosen.begin(), chosen.end(), [&](const MarginPanel& p) { return p.name == kv.substr(0, dot); });
    if (it == chosen.end())
      throw std::invalid_argument("--set " + kv + ": no panel \"" + kv.substr(0, dot) + "\" among " +
                                  (names.empty() ? known : quick ? "the --quick panels" : "the chosen --losses"));
    for (const auto& [key, value] : loss_settings("--set " + it->name, {kv.substr(dot + 1)})) it->params[key] = value;
  }
  for (MarginPanel& p : chosen) {
    Objective{p.loss, p.params, p.anneal};  // throws on a bad setting
    p.title = titled(p);
  }
  // The ranges of the command line's flags (train/run/values.h), for callers of the library too.
  check_value("--epochs", static_cast<double>(epochs_to_run()), kEpochRange);
  check_value("--batch-size", static_cast<double>(batch_size), kSizeRange);
  check_value("--lr", lr, kLearningRateRange);
  check_value("--weight-decay", weight_decay, kWeightDecayRange);
  check_value("--clip-grad-norm", clip_grad_norm, kClipRange);
  check_value("--snapshots", static_cast<double>(snapshots), ValueRange::whole(2, 100));
  check_value("--snapshot-samples", static_cast<double>(snapshot_samples), kSizeRange);
  check_value("--threads", static_cast<double>(threads), kThreadRange);
  check_value("--jobs", static_cast<double>(jobs), kThreadRange);
  check_value("--seeds", static_cast<double>(seeds), ValueRange::whole(1, 100));
  return chosen;
}

std::shared_ptr<Sequential> margins_backbone(const Shape& sample, std::int64_t dim, Generator& gen) {
  if (sample.size() != 3 || sample[1] < 16 || sample[2] < 16)
    throw std::invalid_argument("zoograd margins needs images of at least 16x16, got samples of shape " +
                                to_string(sample));
  auto net = std::make_shared<Sequential>();
  std::int64_t channels = sample[0], h = sample[1], w = sample[2];
  for (auto [out, kernel] : {std::pair<std::int64_t, std::int64_t>{8, 5}, {16, 5}, {32, 3}}) {
    net->push_back(std::make_shared<Conv2d>(channels, out, kernel, gen, Conv2dOptions{.padding = kernel / 2, .bias = false}));
    net->push_back(std::make_shared<BatchNorm2d>(out));
    net->push_back(std::make_shared<PReLU>());
    net->push_back(std::make_shared<MaxPool2d>(2));
    channels = out, h /= 2, w /= 2;
  }
  net->push_back(std::make_shared<Flatten>());
  net->push_back(std::make_shared<Linear>(channels * h * w, 64, gen, LinearOptions{.bias = false}));
  net->push_back(std::make_shared<BatchNorm1d>(64));
  net->push_back(std::make_shared<PReLU>());
  net->push_back(std::make_shared<Linear>(64, dim, gen));
  // A hidden layer of 64 before the 2-D one: on MNIST (4 epochs, seeds 0 and 1) it raised test
  // accuracy from 0.970 to 0.986 (softmax), 0.962-0.970 to 0.988-0.990 (SphereFace), 0.92-0.94 to
  // 0.96-0.97 (CosFace) and 0.91-0.94 to 0.96 (ArcFace), for 2% more arithmetic.
  // ArcFace's embedding block ends the same way (BN-FC-BN). A normalized head hands a feature its
  // gradient divided by the feature's norm; centred features of a set scale start spread around
  // the origin, with no norm to inflate. 4 epochs, test accuracy: NormFace 0.71 → 0.81, ArcFace
  // 0.37 → 0.74; the unnormalized panels within ±0.06.
  net->push_back(std::make_shared<BatchNorm1d>(dim));
  return net;
}

namespace {

// Features (through the backbone) and head scores of a whole split, in eval mode without a graph.
struct Pass {
  std::vector<double> features;
  std::vector<std::int64_t> labels, predictions;
};

Pass run_pass(Sequential& model, const Dataset& data, const Normalize& norm) {
  NoGradGuard no_grad;
  model.eval();
  Pass pass;
  std::vector<std::int64_t> idx;
  for (std::int64_t start = 0; start < data.size(); start += 500) {
    idx.clear();
    for (std::int64_t i = start; i < std::min(data.size(), start + 500); ++i) idx.push_back(i);
    Batch b = make_batch(data, idx, norm);
    Tensor f = b.x;
    for (std::size_t i = 0; i + 1 < model.size(); ++i) f = model[i](f);
    std::vector<double> fv = f.to_vector(), pv = argmax(model[model.size() - 1](f), 1).to_vector(), yv = b.y.to_vector();
    pass.features.insert(pass.features.end(), fv.begin(), fv.end());
    for (double v : pv) pass.predictions.push_back(static_cast<std::int64_t>(v));
    for (double v : yv) pass.labels.push_back(static_cast<std::int64_t>(v));
  }
  model.train();
  return pass;
}

double accuracy(const Pass& pass) {
  std::int64_t right = 0;
  for (std::size_t i = 0; i < pass.labels.size(); ++i) right += pass.labels[i] == pass.predictions[i];
  return static_cast<double>(right) / static_cast<double>(std::max<std::size_t>(pass.labels.size(), 1));
}

// The head's classes around the circle (2-D features) at the given norm, and where each class
// meets its margin under the loss's parameters at `step`.
CircleClasses circle_classes(Module& head, const Objective& objective, std::int64_t step,
                             const std::vector<double>& weights, double norm) {
  NoGradGuard no_grad;
  std::vector<double> points, directions;
  for (int k = 0; k < 3600; ++k) {
    const double a = k * std::numbers::pi / 1800;
    directions.insert(directions.end(), {std::cos(a), std::sin(a)});
    points.insert(points.end(), {norm * std::cos(a), norm * std::sin(a)});
  }
  CircleClasses c;
  for (double v : argmax(head(tensor(points, {3600, 2}, DType::Float32)), 1).to_vector())
    c.argmax.push_back(static_cast<std::int64_t>(v));
  c.margin = margin_classes(objective.spec().name, objective.at_step(step), weights, 2, directions).value_or(c.argmax);
  return c;
}

bool has_cosine_head(const Objective& objective) {
  return objective.needs_head() && objective.spec().classifier->scores == ScoresAs::CosineHead;
}

// NormFace, CosFace, ArcFace and the combined margin score s·cos θ of normalized features (their
// scale s); modified softmax and SphereFace score ‖x‖·ψ(θ), whose gradient is not divided by ‖x‖.
bool normalizes_features(const Objective& objective) {
  const std::vector<LossParam>& params = objective.spec().params;
  return has_cosine_head(objective) &&
         std::any_of(params.begin(), params.end(), [](const LossParam& p) { return p.name == "s"; });
}

double mean_norm(const std::vector<double>& features, std::int64_t dim) {
  double total = 0;
  const std::size_t d = static_cast<std::size_t>(dim), n = features.size() / d;
  for (std::size_t i = 0; i < n; ++i) {
    double s = 0;
    for (std::size_t k = 0; k < d; ++k) s += features[i * d + k] * features[i * d + k];
    total += std::sqrt(s);
  }
  return n > 0 ? std::max(total / static_cast<double>(n), 1e-6) : 1;
}

Snapshot take_snapshot(Sequential& model, const Objective& objective, const Dataset& subset, const Normalize& norm,
                       std::int64_t step, std::int64_t dim) {
  const Pass pass = run_pass(model, subset, norm);
  Snapshot s;
  s.step = step;
  s.features = pass.features;
  s.labels = pass.labels;
  s.accuracy = accuracy(pass);
  Module& head = model[model.size() - 1];
  const NamedTensors params = head.named_parameters();
  s.weights = params.at(0).second.to_vector();
  if (params.size() > 1) s.bias = params.at(1).second.to_vector();
  s.cosine_head = has_cosine_head(objective);
  if (dim == 2) s.circle = circle_classes(head, objective, step, s.weights, mean_norm(s.features, dim));
  return s;
}

// SphereFace's schedule λ = base·(1 + γ·step)^-power reaches λ_min after
// ((base/λ_min)^(1/power) - 1)/γ steps: 1,658 with its γ = 0.12, more than a short atlas takes,
// which would then never feel the full margin. γ is fitted so that λ settles at 60% of the run,
// unless --set gave it.
MarginPanel with_fitted_anneal(MarginPanel panel, std::int64_t settle_steps) {
  auto gamma_for = [&](double base, double power, double lambda_min) {
    return (std::pow(base / std::max(lambda_min, 1.0), 1 / power) - 1) / static_cast<double>(settle_steps);
  };
  if (panel.anneal) panel.anneal->gamma = gamma_for(panel.anneal->base, panel.anneal->power, panel.anneal->lambda_min);
  const LossSpec& spec = find_loss(panel.loss);
  bool anneals = std::any_of(spec.params.begin(), spec.params.end(), [](const LossParam& p) { return p.name == "gamma"; });
  if (anneals && !panel.params.contains("gamma"))
    panel.params["gamma"] = gamma_for(param(spec, panel.params, "base"), param(spec, panel.params, "power"),
                                      param(spec, panel.params, "lambda_min"));
  return panel;
}

// `live`: whether this panel may redraw a progress line (not when panels train side by side).
PanelResult train_panel(const MarginPanel& chosen, const MarginsOptions& o, const DataSplit& data, const Normalize& norm,
                        bool live) {
  const auto start = std::chrono::steady_clock::now();
  const std::int64_t classes = data.train.num_classes, epochs = o.epochs_to_run();
  const std::int64_t steps_per_epoch = (data.train.size() + o.batch_size - 1) / o.batch_size;
  const std::int64_t total_steps = epochs * steps_per_epoch;
  const std::int64_t settle_steps = std::max<std::int64_t>(1, total_steps * 3 / 5);  // λ and margins in full
  const MarginPanel panel = with_fitted_anneal(chosen, settle_steps);
  Generator gen(o.seed);  // the same backbone weights and batch order for every panel
  auto model = margins_backbone(data.train.sample_shape, o.dim, gen);
  Objective objective(panel.loss, panel.params, panel.anneal);
  // Like λ, the additive margins come in over the first 60% of the run: on a circle a class
  // cannot pass its neighbours, so a margin imposed before the classes have found their order
  // freezes a wrong one. With the feature BatchNorm, test accuracy: CosFace 0.79 and ArcFace 0.74
  // at 4 epochs without it, 0.87 and 0.87 at 6 epochs with it.
  objective.warm_up_margins(settle_steps);
  if (objective.needs_head())
    model->push_back(objective.make_head(o.dim, classes, gen));
  else
    model->push_back(std::make_shared<Linear>(o.dim, classes, gen));
  SGD optimizer(model->parameters(), {.lr = o.lr, .momentum = 0.9, .weight_decay = o.weight_decay});
  const auto total = static_cast<double>(total_steps);
  // Per step: a linear warm-up over the first epoch (at most a quarter of the run, so that a
  // one-epoch run still decays), then cosine decay to zero. At the full rate
  // from the start, a normalized head (which divides a feature's gradient by its norm, near 0.6
  // at first) swings the features around and inflates their norms, after which their angles hardly
  // move. Measured before the feature BatchNorm, 4 epochs: NormFace 0.55 → 0.75, CosFace 0.64 →
  // 0.78, softmax 0.91 → 0.92.
  const auto warmup = static_cast<double>(std::min(steps_per_epoch, std::max<std::int64_t>(1, total_steps / 4)));
  auto lr_at_step = [&](std::int64_t step_now) {
    auto t = static_cast<double>(step_now);
    if (t < warmup) return o.lr * (t + 1) / warmup;
    return o.lr * 0.5 * (1 + std::cos(std::numbers::pi * (t - warmup) / (total - warmup)));
  };
  DataLoader loader(data.train, {.batch_size = o.batch_size, .shuffle = true, .normalize = norm}, gen);

  PanelResult r;
  r.panel = panel;
  // Snapshots at `snapshots` evenly spaced steps from 0 to the end, of test images spread evenly
  // over the test set. train_epoch asks for the learning rate before every step, so the
  // snapshots before a step are taken there.
  std::vector<std::int64_t> picks;
  const std::int64_t samples = std::min(o.snapshot_samples, data.test.size());
  for (std::int64_t i = 0; i < samples; ++i) picks.push_back(i * data.test.size() / samples);
  const Dataset snapshot_set = data.test.subset(picks);
  std::vector<std::int64_t> snapshot_steps;
  for (std::int64_t k = 0; k < o.snapshots; ++k) snapshot_steps.push_back(k * total_steps / (o.snapshots - 1));
  std::size_t taken = 0;
  auto schedule = [&](std::int64_t step_now) {
    for (; taken + 1 < snapshot_steps.size() && snapshot_steps[taken] <= step_now; ++taken)
      r.snapshots.push_back(take_snapshot(*model, objective, snapshot_set, norm, snapshot_steps[taken], o.dim));
    return lr_at_step(step_now);
  };
  std::int64_t step = 0;
  for (std::int64_t epoch = 1; epoch <= epochs; ++epoch) {
    Progress progress(epoch, epochs, data.train.size(), live && !o.quiet);
    EpochTotals totals;
    try {
      totals = train_epoch(*model, objective, optimizer, loader, step, progress,
                           {.lr_at_step = schedule,
                            .clip_grad_norm = normalizes_features(objective) ? o.clip_grad_norm : 0});
    } catch (const DivergenceError& e) {
      throw DivergenceError(panel.name + " (epoch " + std::to_string(epoch) + "): " + e.what() + ", or the panel's s");
    }
    double test_accuracy = accuracy(run_pass(*model, data.test, norm));
    nlohmann::json e = {{"epoch", epoch},
                        {"train_loss", totals.mean_loss()},
                        {"train_accuracy", totals.accuracy()},
                        {"test_accuracy", test_accuracy}};
    if (std::optional<double> lambda = objective.lambda(step)) e["lambda"] = *lambda;
    r.curves.push_back(e);
    if (!o.quiet)
      spdlog::info("{} epoch {}/{}  train loss {:.4f} acc {:.4f}  test acc {:.4f}", panel.name, epoch, epochs,
                   e["train_loss"].get<double>(), e["train_accuracy"].get<double>(), test_accuracy);
  }
  Pass test = run_pass(*model, data.test, norm);
  r.features = test.features;
  r.labels = test.labels;
  r.test_accuracy = accuracy(test);
  r.weights = (*model)[model->size() - 1].named_parameters().at(0).second.to_vector();
  r.geometry = feature_geometry(r.features, r.labels, r.weights, classes, o.dim);
  const std::int64_t dim = o.dim;
  r.steps = step;
  for (; taken < snapshot_steps.size(); ++taken)
    r.snapshots.push_back(take_snapshot(*model, objective, snapshot_set, norm, step, o.dim));
  if (dim == 2)
    r.circle = circle_classes((*model)[model->size() - 1], objective, step, r.weights, r.geometry.mean_feature_norm);
  r.classify = [model, dim](const std::vector<double>& points) {
    NoGradGuard no_grad;
    auto m = static_cast<std::int64_t>(points.size()) / dim;
    Tensor scores = (*model)[model->size() - 1](tensor(points, {m, dim}, DType::Float32));
    std::vector<std::int64_t> cls;
    for (double v : argmax(scores, 1).to_vector()) cls.push_back(static_cast<std::int64_t>(v));
    return cls;
  };
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return r;
}

}  // namespace

SeedMeasures seed_measures(const PanelResult& r, std::uint64_t seed) {
  const FeatureGeometry& g = r.geometry;
  return {seed,        r.test_accuracy,     g.mean_own_angle, g.p95_own_angle, g.min_weight_angle, g.angular_margin,
          g.margin95, g.mean_feature_norm, r.seconds};
}

OverSeeds over_seeds(const std::vector<SeedMeasures>& runs, double SeedMeasures::*measure) {
  OverSeeds o;
  for (const SeedMeasures& m : runs) o.values.push_back(m.*measure);
  if (o.values.empty()) return o;
  for (double v : o.values) o.mean += v / static_cast<double>(o.values.size());
  if (o.values.size() > 1) {
    double squares = 0;
    for (double v : o.values) squares += (v - o.mean) * (v - o.mean);
    o.sd = std::sqrt(squares / static_cast<double>(o.values.size() - 1));
  }
  return o;
}

MarginsResult run_margins(const MarginsOptions& options) {
  std::vector<MarginPanel> panels = options.resolved_panels();
  const auto start = std::chrono::steady_clock::now();
  const auto seeds = static_cast<std::size_t>(options.seeds), work = seeds * panels.size();
  // The panels (and seeds) are independent and their steps small, so they train side by side,
  // one per core, each on one thread (the pool would only add hand-offs).
  // Under mpirun each rank trains its share of them (margins_distributed.h), one at a time unless
  // --jobs says otherwise.
  const std::vector<std::size_t> mine = rank_items(work);
  const std::size_t jobs_wanted = world().distributed() && options.jobs == 0 ? 1 : options.jobs_to_run();
  const auto jobs = std::max<std::size_t>(1, std::min(jobs_wanted, mine.size()));
  if (options.threads > 0) set_num_threads(static_cast<int>(options.threads));
  else if (jobs > 1 || world().distributed()) set_num_threads(1);
  // Each seed as a run with that --seed: its own split of a data set that splits by seed.
  std::vector<MarginsOptions> runs(seeds, options);
  std::vector<DataSplit> data;
  std::vector<Normalize> norms;
  for (std::size_t k = 0; k < seeds; ++k) {
    runs[k].seed = options.seed + k;
    data.push_back(load_dataset(options.data, runs[k].seed));
    for (const Dataset* d : {&data[k].train, &data[k].test})
      if (d->size() == 0)
        throw std::runtime_error("data set " + options.data + ": the " + (d == &data[k].train ? "train" : "test") +
                                 " split is empty; the atlas trains on the one and measures the other");
    norms.push_back(pixel_stats(data[k].train));
  }

  // Work item w: seed w / panels, panel w % panels, so the first seed's panels come first.
  std::vector<std::optional<PanelResult>> results(work);
  std::vector<std::exception_ptr> errors(work);
  std::atomic<std::size_t> next{0};
  auto worker = [&] {
    for (std::size_t j; (j = next++) < mine.size();) {
      const std::size_t w = mine[j], k = w / panels.size(), i = w % panels.size();
      const std::string label = seeds > 1 ? " (seed " + std::to_string(runs[k].seed) + ")" : "";
      if (!options.quiet) spdlog::info("[{}/{}] {}: {}{}", w + 1, work, panels[i].name, panels[i].title, label);
      try {
        results[w] = train_panel(panels[i], runs[k], data[k], norms[k], jobs == 1 && world().root());
      } catch (...) {
        errors[w] = std::current_exception();
        next = mine.size();  // start no more panels
        continue;
      }
      const PanelResult& r = *results[w];
      if (!options.quiet)
        spdlog::info("{}{}: test accuracy {:.4f}, angular margin {:.1f}°, {:.1f} s", r.panel.name, label,
                     r.test_accuracy, r.geometry.angular_margin, r.seconds);
      if (k > 0) {  // later seeds keep their measures only
        results[w]->classify = nullptr;
        results[w]->snapshots.clear();
      }
    }
  };
  {
    std::vector<std::jthread> pool;
    for (std::size_t j = 1; j < jobs; ++j) pool.emplace_back(worker);
    worker();
  }
  gather_panels(results, errors);
  if (!world().root()) return {};  // rank 0 writes the report
  for (const std::exception_ptr& e : errors) {
    if (!e) continue;
    try {
      std::rethrow_exception(e);
    } catch (const Interrupted& stop) {
      throw Interrupted(stop.signal, std::string(stop.what()) + "; the atlas was not written, nothing was changed in " +
                                         options.out);
    }
  }
  MarginsResult result;
  result.class_names = data[0].train.class_names;
  result.seeds.resize(panels.size());
  for (std::size_t w = 0; w < work; ++w) {
    const std::size_t k = w / panels.size(), i = w % panels.size();
    result.seeds[i].push_back(seed_measures(*results[w], runs[k].seed));
    if (k == 0) result.panels.push_back(std::move(*results[w]));
  }
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

}  // namespace zg
