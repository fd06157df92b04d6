#pragma once
// `zoograd margins`: the decision-boundary atlas. The same small CNN (same initial weights) is
// trained under each margin loss with a 2-D (or 3-D) feature layer, so the learned features and
// decision regions of the losses can be compared side by side; margins_report writes the pictures.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "zoograd/train/atlas/margin_geometry.h"
#include "zoograd/train/run/objective.h"

namespace zg {

// One panel of the atlas: a catalog loss with its settings for low-dimensional features.
struct MarginPanel {
  std::string name;   // for --losses and --set, e.g. "cosface"
  std::string title;  // e.g. "CosFace s=16 m=0.1"; its key=value words follow --set
  std::string loss;   // catalog name
  LossParams params;
  std::optional<LambdaSchedule> anneal;  // L-Softmax's λ annealing
};

// softmax (with bias), modified softmax, NormFace, L-Softmax m = 1…4, A-Softmax m = 4, CosFace,
// ArcFace and combined margin, with margins small enough for 10 classes on 2-D features.
const std::vector<MarginPanel>& margin_panels();

// The atlas's network up to its feature layer (no activation, so features may point anywhere):
// conv 5x5 →8, PReLU, max-pool, conv 5x5 →16, PReLU, max-pool, conv 3x3 →32, PReLU, max-pool
// (each conv with BatchNorm), linear → 64, BatchNorm, PReLU, linear → dim, BatchNorm. Kept small
// so the whole atlas trains in minutes on two cores. sample is (C, H, W), at least 16x16.
std::shared_ptr<Sequential> margins_backbone(const Shape& sample, std::int64_t dim, Generator& gen);

struct MarginsOptions {
  std::string data = "mnist";  // the official 60,000 / 10,000 split, the margin papers' data
  std::vector<std::string> losses;  // panel names; empty: every panel
  std::vector<std::string> set;     // "panel.key=value", a loss parameter of one panel
  std::int64_t dim = 2;             // feature dimension: 2 or 3
  std::int64_t epochs = 0;          // 0: the default, longer with `full`, shorter with `quick`
  bool full = false;
  // The live-lecture preset: softmax, SphereFace, CosFace and ArcFace only (with --losses: refused).
  bool quick = false;
  std::int64_t batch_size = 64;
  double lr = 0.05;  // peak of a cosine schedule, SGD with momentum 0.9
  // The margin papers' 5e-4. It also keeps the feature norms in check: a cosine head's gradient
  // reaches the features divided by their norm, so growing norms would freeze their angles.
  double weight_decay = 5e-4;
  // For the panels that normalize their features (NormFace, CosFace, ArcFace, combined), the
  // gradient's global norm is clipped to this before each step (0: never). Such a head divides a
  // feature's gradient by the feature's norm, and the feature BatchNorm centres the features, so the ambiguous images
  // near the origin send spikes of 5-10× the usual norm of about 1 (287× at the first step); on one
  // seed in three such spikes threw NormFace, CosFace and the combined margin off mid-run (test
  // accuracy 0.89, 0.78, 0.91). Clipped at 2: 0.984, 0.987, 0.985 on that seed.
  double clip_grad_norm = 2;
  std::uint64_t seed = 0;
  // Every panel is trained under seeds seed, seed + 1, …, seed + seeds - 1 (each exactly as a run
  // with that --seed: its own initial weights, batch order and, for mnist-digits, split); the
  // pictures show the first, the tables each measure's mean ± sd over all.
  std::int64_t seeds = 1;
  std::int64_t threads = 0;
  std::int64_t jobs = 0;  // panels trained at once; 0: one per core
  std::string out = "runs/margins";
  bool quiet = false;
  // Moments of training kept per panel for the page's player (the start, the end and evenly
  // between), each with the features of `snapshot_samples` test images spread over the set.
  std::int64_t snapshots = 10;
  std::int64_t snapshot_samples = 1000;

  // Sized by CPU time (about 40 s per panel and seed for six epochs of MNIST): six epochs for all
  // eleven panels within five minutes on two cores, two for --quick's four panels within 45 s,
  // twenty for three seeds of every panel (--full --seeds 3) within an hour.
  std::int64_t epochs_to_run() const { return epochs != 0 ? epochs : full ? 20 : quick ? 2 : 6; }
  std::int64_t jobs_to_run() const;
  // The panels to run with --set applied; throws std::invalid_argument naming a bad value.
  std::vector<MarginPanel> resolved_panels() const;
};

// The head's view of the circle (2-D features): for each of 3600 directions 0.1° apart
// (counter-clockwise from the x axis), the class the head predicts at the mean feature norm, and
// the class that meets its margin there (train/atlas/margin_regions.h; -1 for none).
struct CircleClasses {
  std::vector<std::int64_t> argmax, margin;
};

// A moment of training: the features of a fixed subset of the test set, the head's weights and
// its circle, after `step` optimizer steps.
struct Snapshot {
  std::int64_t step = 0;
  std::vector<double> features;      // (n, dim), row-major
  std::vector<std::int64_t> labels;  // (n)
  std::vector<double> weights;       // (C, dim)
  std::vector<double> bias;          // (C), or empty for a head without one
  bool cosine_head = false;          // the head scores cos θ (normalized weights)
  CircleClasses circle;              // dim 2 only
  double accuracy = 0;               // on the subset
};

struct PanelResult {
  MarginPanel panel;
  std::vector<double> features;        // test features (N, dim), row-major
  std::vector<std::int64_t> labels;    // (N)
  std::vector<double> weights;         // class weights (C, dim)
  FeatureGeometry geometry;
  double test_accuracy = 0, seconds = 0;
  nlohmann::json curves = nlohmann::json::array();  // per epoch: epoch, train_loss, train_accuracy, test_accuracy[, lambda]
  // The head's predicted class at each of M points (M, dim) of the feature space.
  std::function<std::vector<std::int64_t>(const std::vector<double>& points)> classify;
  CircleClasses circle;              // at the end of training (dim 2 only)
  std::vector<Snapshot> snapshots;   // in step order, the last at the end of training
  std::int64_t steps = 0;            // optimizer steps taken
};

// One panel's measures under one seed.
struct SeedMeasures {
  std::uint64_t seed = 0;
  double test_accuracy = 0, mean_own_angle = 0, p95_own_angle = 0, min_weight_angle = 0, angular_margin = 0,
         margin95 = 0, mean_feature_norm = 0, seconds = 0;
};
SeedMeasures seed_measures(const PanelResult& r, std::uint64_t seed);

// A measure over seeds: the mean, the sample standard deviation (0 for one seed) and the values.
struct OverSeeds {
  double mean = 0, sd = 0;
  std::vector<double> values;
};
OverSeeds over_seeds(const std::vector<SeedMeasures>& runs, double SeedMeasures::*measure);

struct MarginsResult {
  std::vector<PanelResult> panels;            // the first seed's, with everything the pictures need
  std::vector<std::vector<SeedMeasures>> seeds;  // per panel, every seed's measures, the first seed's first
  std::vector<std::string> class_names;
  double seconds = 0;
};

MarginsResult run_margins(const MarginsOptions& options);

}  // namespace zg
