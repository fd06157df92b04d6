#pragma once
// A catalog loss as the training objective of a classifier: `zoograd train --loss NAME --set k=v`.
// The catalog row's ClassifierUse says how the network's class scores and the labels become the
// loss's inputs. The angular family takes features and a class weight matrix instead of scores:
// such a model ends in a feature layer followed by a head (CosineLinear, or a bias-free Linear for
// L-Softmax) whose weight the loss receives and trains.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "zoograd/core/generator.h"
#include "zoograd/layers/module.h"
#include "zoograd/layers/sequential.h"
#include "zoograd/losses/catalog.h"

namespace zg {

struct ObjectiveOutput {
  Tensor loss;    // scalar: the batch mean (batchmean where the loss has it, as kl_div)
  Tensor scores;  // (N, C): the predicted class is the argmax
};

// An annealed λ for lsoftmax_loss, as sphereface_loss has built in (defaults: SphereFace's):
//   λ = max(λ_min, base·(1 + γ·step)^(-power))
struct LambdaSchedule {
  double base = 1000, gamma = 0.12, power = 1, lambda_min = 5;
};

class Objective {
 public:
  // Throws std::invalid_argument naming the loss if it is unknown or not a classification loss
  // (listing those that are), or if a parameter is unknown or has a value the loss refuses.
  // With `anneal`, the loss's `lambda` parameter follows the schedule (lsoftmax_loss; others throw).
  Objective(const std::string& loss, const LossParams& params, std::optional<LambdaSchedule> anneal = std::nullopt);
  // A row outside the catalog (a loss being written); it must outlive the objective.
  Objective(const LossSpec& spec, const LossParams& params, std::optional<LambdaSchedule> anneal = std::nullopt);

  const LossSpec& spec() const { return *spec_; }
  // Whether the model must end in features followed by make_head().
  bool needs_head() const;
  std::shared_ptr<Module> make_head(std::int64_t features, std::int64_t classes, Generator& gen) const;

  // The loss of a batch and the class scores. `step` counts the optimizer steps taken so far; it
  // drives the annealed λ of sphereface_loss (whose `iteration` parameter becomes an offset).
  ObjectiveOutput operator()(Sequential& model, const Tensor& x, const Tensor& labels, std::int64_t step) const;

  // The additive margins (CosFace's and ArcFace's m, the combined margin's m2, m3 and m1 - 1) grow
  // linearly from none at step 0 to their set values at `steps`, as SphereFace's λ anneals its
  // multiplicative margin in. Other losses are unaffected.
  void warm_up_margins(std::int64_t steps) { margin_warmup_ = steps; }

  // The λ in force at `step` for a loss that anneals it (sphereface_loss, or with a
  // LambdaSchedule); nullopt otherwise.
  std::optional<double> lambda(std::int64_t step) const;

  // Every classification loss of the catalog, in catalog order.
  static std::vector<std::string> names();

  // Every parameter as the loss receives it at `step` (annealed λ, warmed-up margins).
  LossParams at_step(std::int64_t step) const;

 private:
  static const LossSpec& lookup(const std::string& loss);

  const LossSpec* spec_;
  LossParams params_;  // every declared parameter, given or default
  std::optional<LambdaSchedule> anneal_;
  std::int64_t margin_warmup_ = 0;
};

}  // namespace zg
