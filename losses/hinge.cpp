#include "zoograd/losses/hinge.h"

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "zoograd/losses/catalog.h"
#include "zoograd/losses/checks.h"

namespace zg {

namespace {

using checks::check_reduction;
using checks::num;

void check_floating_input(const char* loss, const Tensor& input) {
  if (!is_floating(input.dtype()))
    throw std::invalid_argument(std::string(loss) + ": input must be float32 or float64 scores, got " +
                                dtype_name(input.dtype()) + "; convert it with to(DType::Float32)");
}

void check_finite_margin(const char* loss, double margin) {
  if (!std::isfinite(margin))
    throw std::invalid_argument(std::string(loss) + ": margin must be finite, got " + num(margin));
}

// The ±1 labels of a binary loss, in the input's dtype. Anything else (0/1 labels in particular)
// would silently change the loss, so it is refused.
Tensor binary_labels(const char* loss, const Tensor& input, const Tensor& target) {
  check_floating_input(loss, input);
  if (target.shape() != input.shape())
    throw std::invalid_argument(std::string(loss) + ": target of shape " + to_string(target.shape()) +
                                " must have the input's shape " + to_string(input.shape()));
  std::vector<double> y = target.to_vector();
  for (std::size_t i = 0; i < y.size(); ++i)
    if (y[i] != 1.0 && y[i] != -1.0)
      throw std::invalid_argument(std::string(loss) + ": target must hold -1/+1 labels, got " + num(y[i]) +
                                  " at position " + std::to_string(i) + "; map 0/1 labels with 2·y - 1");
  return target.to(input.dtype());
}

void check_class_targets(const char* loss, const Tensor& input, const Tensor& target, std::int64_t min_classes) {
  check_floating_input(loss, input);
  if (input.dim() != 2 || target.dim() != 1 || target.size(0) != input.size(0))
    throw std::invalid_argument(std::string(loss) + ": expected input (N, C) and target (N), got " +
                                to_string(input.shape()) + " and " + to_string(target.shape()) +
                                "; unsqueeze(x, 0) makes a single sample a batch of one");
  if (input.size(1) < min_classes)
    throw std::invalid_argument(std::string(loss) + ": needs at least " + std::to_string(min_classes) +
                                " classes (a target and another class to beat), got " + std::to_string(input.size(1)));
  checks::check_class_indices(target, input.size(1), loss);
}

// x_y of every row: (N, C) -> (N).
Tensor target_scores(const Tensor& scores, const Tensor& target) {
  return reshape(gather(scores, 1, unsqueeze(target, 1)), {scores.size(0)});
}

// The scores with x_y replaced by -inf, so that a max or logsumexp over the row runs over i ≠ y.
// where() selects rather than adds: the replaced entry gets a zero gradient, never inf·0 = NaN.
Tensor without_target(const Tensor& scores, const Tensor& target) {
  Tensor is_target = one_hot(target, scores.size(1), scores.dtype());
  return where(is_target, scalar(-std::numeric_limits<double>::infinity(), scores.dtype()), scores);
}

}  // namespace

Tensor hinge_loss(const Tensor& input, const Tensor& target, const HingeLossOptions& options) {
  Tensor y = binary_labels("hinge_loss", input, target);
  check_reduction(options.reduction, "hinge_loss");
  check_finite_margin("hinge_loss", options.margin);
  return reduce(relu(options.margin - y * input), options.reduction);
}

Tensor squared_hinge_loss(const Tensor& input, const Tensor& target, const HingeLossOptions& options) {
  Tensor y = binary_labels("squared_hinge_loss", input, target);
  check_reduction(options.reduction, "squared_hinge_loss");
  check_finite_margin("squared_hinge_loss", options.margin);
  return reduce(pow(relu(options.margin - y * input), 2.0), options.reduction);
}

Tensor soft_margin_loss(const Tensor& input, const Tensor& target, const SoftMarginLossOptions& options) {
  Tensor y = binary_labels("soft_margin_loss", input, target);
  check_reduction(options.reduction, "soft_margin_loss");
  return reduce(softplus(-(y * input)), options.reduction);  // softplus: no overflow of exp(-y·x)
}

Tensor multi_margin_loss(const Tensor& input, const Tensor& target, const MultiMarginLossOptions& options) {
  check_class_targets("multi_margin_loss", input, target, 1);
  check_reduction(options.reduction, "multi_margin_loss");
  if (options.p != 1 && options.p != 2)
    throw std::invalid_argument("multi_margin_loss: p must be 1 or 2 (as in PyTorch), got " + std::to_string(options.p));
  check_finite_margin("multi_margin_loss", options.margin);
  const std::int64_t classes = input.size(1);
  if (options.weight.defined() && (options.weight.dim() != 1 || options.weight.numel() != classes ||
                                   !is_floating(options.weight.dtype())))
    throw std::invalid_argument("multi_margin_loss: weight must be a floating tensor of shape [" +
                                std::to_string(classes) + "] (one weight per class), got " + dtype_name(options.weight.dtype()) +
                                " " + to_string(options.weight.shape()));

  Tensor hinge = relu(options.margin - unsqueeze(target_scores(input, target), 1) + input);  // (N, C)
  if (options.p == 2) hinge = pow(hinge, 2.0);
  // The i = y term would be max(0, margin)^p; the sum skips it.
  Tensor is_target = one_hot(target, classes, input.dtype());
  Tensor per_sample = sum(where(is_target, scalar(0.0, input.dtype()), hinge), {1});
  if (options.divide_by_classes) per_sample = per_sample / static_cast<double>(classes);
  if (options.weight.defined()) per_sample = per_sample * index_select(options.weight.to(input.dtype()), 0, target);
  return reduce(per_sample, options.reduction);
}

Tensor crammer_singer_loss(const Tensor& input, const Tensor& target, const CrammerSingerLossOptions& options) {
  check_class_targets("crammer_singer_loss", input, target, 2);
  check_reduction(options.reduction, "crammer_singer_loss");
  check_finite_margin("crammer_singer_loss", options.margin);
  Tensor strongest_other = amax(without_target(input, target), {1});  // max_{i≠y} x_i
  return reduce(relu(options.margin + strongest_other - target_scores(input, target)), options.reduction);
}

Tensor logsumexp_hinge_loss(const Tensor& input, const Tensor& target, const LogSumExpHingeLossOptions& options) {
  check_class_targets("logsumexp_hinge_loss", input, target, 2);
  check_reduction(options.reduction, "logsumexp_hinge_loss");
  const double t = options.temperature;
  if (!(t > 0) || !std::isfinite(t))
    throw std::invalid_argument("logsumexp_hinge_loss: temperature must be positive and finite, got " + num(t) +
                                "; small values approach crammer_singer_loss with margin 0");
  Tensor scaled = input / t;
  Tensor smooth_max_other = logsumexp(without_target(scaled, target), {1});  // logsumexp_{i≠y} x_i/T
  Tensor gap = smooth_max_other - target_scores(scaled, target);
  return reduce(t * (options.softplus ? softplus(gap) : relu(gap)), options.reduction);
}

// ---- catalog rows ----

namespace {


const std::vector<Reduction> kReductions{Reduction::None, Reduction::Mean, Reduction::Sum};

// ±1 labels, and scores whose y·x stays at least 0.05 away from 1, the hinge's kink at the default margin.
std::vector<Tensor> binary_sample(DType dtype, Generator& gen) {
  const Shape shape{3, 4};
  std::vector<double> x, y;
  for (std::int64_t i = 0; i < numel(shape); ++i) {
    double label = gen.below(2) ? 1.0 : -1.0;
    double size = 0.1 + 1.8 * gen.uniform();  // |y·x|
    if (std::abs(size - 1.0) < 0.05) size += 0.1;
    double side = gen.below(2) ? 1.0 : -1.0;  // y·x = side·size: correct or wrong side of the boundary
    x.push_back(label * side * size);
    y.push_back(label);
  }
  return {tensor(x, shape, dtype), tensor(y, shape, dtype)};
}

// Every pairwise gap at least 0.05 away from 0 (ties of a max) and from 1 (the default margin's kinks).
bool well_separated(const std::vector<double>& row) {
  for (std::size_t i = 0; i < row.size(); ++i)
    for (std::size_t j = i + 1; j < row.size(); ++j) {
      double gap = std::abs(row[i] - row[j]);
      if (gap < 0.05 || std::abs(gap - 1.0) < 0.05) return false;
    }
  return true;
}

// Scores (4, 5) drawn row by row until a row is well separated, and class targets (4).
std::vector<Tensor> class_sample(DType dtype, Generator& gen) {
  constexpr std::int64_t batch = 4, classes = 5;
  std::vector<double> x;
  while (x.size() < static_cast<std::size_t>(batch * classes)) {
    std::vector<double> row(classes);
    for (double& v : row) v = 1.5 * gen.normal();
    if (well_separated(row)) x.insert(x.end(), row.begin(), row.end());
  }
  return {tensor(x, {batch, classes}, dtype), randint(0, classes, {batch}, gen)};
}

const std::vector<LossInput> kBinaryInputs{{"input", "any shape", DType::Float32, true},
                                           {"target", "same as input, -1/+1", DType::Float32, false}};
const std::vector<LossInput> kClassInputs{{"input", "(N, C)", DType::Float32, true},
                                          {"target", "(N), int64 in [0, C)", DType::Int64, false}};

const LossParam kMargin{"margin", 1.0, "the required gap between the target score and the others"};

}  // namespace

std::vector<LossSpec> hinge_losses() {
  std::vector<LossSpec> rows;

  std::vector<LossParam> params{kMargin};
  rows.push_back({"hinge_loss", "hinge", "max(0, margin - y·x)", kBinaryInputs, params, kReductions, binary_sample,
                  [](const std::vector<Tensor>& in, const LossParams& given, Reduction r) {
                    return hinge_loss(in[0], in[1], {.margin = given.at("margin"), .reduction = r});
                  },
                  ClassifierUse{ScoresAs::Logits, LabelsAs::Signs}});
  // The binary samples keep |y·x| <= 1.9, so margin 2 has its kink away from them too.
  rows.back().gradcheck_variants = {{{"margin", 2.0}}};
  rows.push_back({"squared_hinge_loss", "hinge", "max(0, margin - y·x)²", kBinaryInputs, params, kReductions,
                  binary_sample, [](const std::vector<Tensor>& in, const LossParams& given, Reduction r) {
                    return squared_hinge_loss(in[0], in[1], {.margin = given.at("margin"), .reduction = r});
                  },
                  ClassifierUse{ScoresAs::Logits, LabelsAs::Signs}});
  rows.back().gradcheck_variants = {{{"margin", 2.0}}};
  rows.push_back({"soft_margin_loss", "hinge", "log(1 + exp(-y·x))", kBinaryInputs, {}, kReductions, binary_sample,
                  [](const std::vector<Tensor>& in, const LossParams&, Reduction r) {
                    return soft_margin_loss(in[0], in[1], {.reduction = r});
                  },
                  ClassifierUse{ScoresAs::Logits, LabelsAs::Signs}});

  params = {{"p", 1.0, "the power of each violation: 1 or 2", ValueRange::whole(1, 2)},
            {"divide_by_classes", 1.0, "1: / C as PyTorch; 0: seed 000's plain sum Σ_{i≠y} (Weston–Watkins)", ValueRange::boolean()},
            kMargin};
  rows.push_back({"multi_margin_loss", "hinge",
                  "Σ_{i≠y} max(0, margin - x_y + x_i)^p / C  (divide_by_classes = 0: without / C, seed 000)",
                  kClassInputs, params, kReductions, class_sample,
                  [](const std::vector<Tensor>& in, const LossParams& given, Reduction r) {
                    double p = given.at("p");
                    if (p != std::trunc(p))
                      throw std::invalid_argument("multi_margin_loss: p must be 1 or 2 (as in PyTorch), got " + num(p));
                    return multi_margin_loss(in[0], in[1],
                                             {.p = static_cast<std::int64_t>(p), .margin = given.at("margin"),
                                              .reduction = r,
                                              .divide_by_classes = switch_param("multi_margin_loss", given, "divide_by_classes")});
                  },
                  ClassifierUse{ScoresAs::Logits, LabelsAs::Index}});
  rows.back().gradcheck_variants = {{{"p", 2.0}}, {{"divide_by_classes", 0.0}}};

  params = {kMargin};
  rows.push_back({"crammer_singer_loss", "hinge", "max(0, margin + max_{i≠y} x_i - x_y)", kClassInputs, params,
                  kReductions, class_sample,
                  [](const std::vector<Tensor>& in, const LossParams& given, Reduction r) {
                    return crammer_singer_loss(in[0], in[1], {.margin = given.at("margin"), .reduction = r});
                  },
                  ClassifierUse{ScoresAs::Logits, LabelsAs::Index}});

  params = {{"softplus", 1.0, "0: keep the hinge, max(T·logsumexp_{i≠y}(x_i/T) - x_y, 0) (seed 000, before softplus)",
             ValueRange::boolean()},
            {"temperature", 1.0, "T > 0: 1 gives softmax cross-entropy, T -> 0 the hard Crammer–Singer hinge",
             ValueRange::positive()}};
  rows.push_back({"logsumexp_hinge_loss", "hinge",
                  "T·softplus(logsumexp_{i≠y}(x_i/T) - x_y/T)  (softplus = 0: max(T·logsumexp_{i≠y}(x_i/T) - x_y, 0))",
                  kClassInputs, params, kReductions, class_sample,
                  [](const std::vector<Tensor>& in, const LossParams& given, Reduction r) {
                    return logsumexp_hinge_loss(in[0], in[1],
                                                {.temperature = given.at("temperature"), .reduction = r,
                                                 .softplus = switch_param("logsumexp_hinge_loss", given, "softplus")});
                  },
                  ClassifierUse{ScoresAs::Logits, LabelsAs::Index}});
  rows.back().gradcheck_variants = {{{"temperature", 0.5}}, {{"temperature", 3.0}}};
  return rows;
}

}  // namespace zg
