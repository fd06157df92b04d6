#include "zoograd/losses/classification.h"

#include <limits>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "zoograd/losses/catalog.h"
#include "zoograd/losses/checks.h"
#include "zoograd/losses/exact_softmax.h"

namespace zg {

namespace {

using namespace checks;


// Elementwise losses compare input and target element by element: same shape, floating.
void check_pair(const Tensor& input, const Tensor& target, const std::string& loss,
                const std::string& input_name = "input", const std::string& target_name = "target") {
  check_floating(input, loss, input_name);
  check_floating(target, loss, target_name);
  if (input.shape() != target.shape())
    fail(loss, input_name + " " + to_string(input.shape()) + " and " + target_name + " " + to_string(target.shape()) +
                   " must have the same shape");
}

// An optional weight must broadcast to `shape` without enlarging it.
void check_broadcasts_to(const Tensor& w, const Shape& shape, const std::string& loss, const std::string& name) {
  if (!w.defined()) return;
  check_floating(w, loss, name);
  const auto rank = static_cast<std::int64_t>(shape.size());
  bool fits = w.dim() <= rank;
  for (std::int64_t k = 1; fits && k <= w.dim(); ++k) {
    std::int64_t have = w.size(-k), want = shape[static_cast<std::size_t>(rank - k)];
    fits = have == 1 || have == want;
  }
  if (!fits)
    fail(loss,
         name + " of shape " + to_string(w.shape()) + " does not broadcast to the input's shape " + to_string(shape));
}

void check_class_weight(const Tensor& w, std::int64_t classes, const std::string& loss, const std::string& name) {
  if (!w.defined()) return;
  check_floating(w, loss, name);
  if (w.dim() != 1 || w.size(0) != classes)
    fail(loss,
         name + " must hold one value per class, shape [" + std::to_string(classes) + "], got " + to_string(w.shape()));
}

void check_gamma(double gamma, const std::string& loss) {
  if (!(gamma >= 0)) fail(loss, "gamma must be >= 0, got " + num(gamma));
}

Tensor weighted(const Tensor& values, const Tensor& weight) {
  return weight.defined() ? values * weight.to(values.dtype()) : values;
}

// w_{y_n}·nll_n per row (0 where ignored), nll_n = -log p_{n,y_n}, and mean's denominator Σ_{kept n} w_{y_n}.
struct WeightedNll {
  Tensor per_row;
  Tensor total_weight;
};

WeightedNll weighted_nll(const Tensor& nll, const ClassTargets& t, const Tensor& weight) {
  Tensor w_y = weight.defined() ? index_select(weight.to(nll.dtype()), 0, t.index) * t.kept : t.kept;
  // where, not a product with w_y = 0: an ignored row may hold inf, and 0·inf is NaN.
  return {where(t.kept, w_y * nll, scalar(0.0, nll.dtype())), sum(w_y)};
}

// none: one value per sample; sum: Σ; mean: Σ / denominator.
Tensor reduce_rows(const Tensor& per_row, const Shape& sample_shape, Reduction r, const Tensor& denominator) {
  if (r == Reduction::None) return reshape(per_row, sample_shape);
  return r == Reduction::Sum ? sum(per_row) : sum(per_row) / denominator;
}

// max(log p, -100), PyTorch's clamp, as a log of p where p > 0 and -100 elsewhere: log(0) would
// make the gradient 0/0 even behind the clamp.
Tensor clamped_log(const Tensor& p) {
  Tensor positive = gt(p, 0.0);
  Tensor log_p = log(where(positive, p, scalar(1.0, p.dtype())));
  return clamp(where(positive, log_p, scalar(-100.0, p.dtype())), -100.0);
}

// -log p_y per row: in float64 softplus(logsumexp_{j≠y} x_j - x_y), exact in the tails
// (losses/exact_softmax.h); float32 keeps -log_softmax(x)_y, bit for bit the form the README's
// training results were measured with (rounding alone moves a 2-D atlas panel by points).
Tensor target_nll(const Tensor& rows, const Tensor& index) {
  if (rows.dtype() == DType::Float64) return softplus(target_gap(rows, index));
  return -reshape(gather(log_softmax(rows, 1), 1, unsqueeze(index, 1)), {index.numel()});
}

// (1 - p_t)^γ at max(1 - p_t, the smallest normal number), so that its gradient stays finite (see the header).
Tensor focal_factor(const Tensor& one_minus_p_t, double gamma) {
  double tiny =
      one_minus_p_t.dtype() == DType::Float32 ? std::numeric_limits<float>::min() : std::numeric_limits<double>::min();
  return pow(clamp(one_minus_p_t, tiny), gamma);
}

}  // namespace

Tensor cross_entropy(const Tensor& input, const Tensor& target, const CrossEntropyOptions& options) {
  const std::string loss = "cross_entropy";
  check_reduction(options.reduction, loss);
  const double eps = options.label_smoothing;
  if (!(eps >= 0 && eps <= 1)) fail(loss, "label_smoothing must be in [0, 1], got " + num(eps));
  ClassRows x = class_rows(input, loss, "input");
  const std::int64_t classes = x.rows.size(1);
  check_class_weight(options.weight, classes, loss, "weight");

  if (target.defined() && is_floating(target.dtype())) {  // class probabilities
    if (target.shape() != input.shape())
      fail(loss, "a floating target holds class probabilities and must have the input's shape " +
                     to_string(input.shape()) + ", got " + to_string(target.shape()) + "; pass class indices as int64");
    if (options.ignore_index >= 0)
      fail(loss, "ignore_index " + std::to_string(options.ignore_index) +
                     " is not supported with probability targets; leave it negative (default -100)");
    Tensor q = class_rows(target, loss, "target").rows.to(input.dtype());
    if (eps > 0) q = q * (1.0 - eps) + eps / static_cast<double>(classes);
    Tensor per_row = -sum(weighted(q * exact_log_softmax(x.rows), options.weight), {1});
    return reduce(reshape(per_row, x.sample_shape), options.reduction);  // mean: / number of samples
  }

  ClassTargets t = class_targets(target, x.sample_shape, classes, options.ignore_index, input.dtype(), loss);
  WeightedNll nll = weighted_nll(target_nll(x.rows, t.index), t, options.weight);
  Tensor per_row = nll.per_row;
  if (eps > 0) {  // as PyTorch, only then: ε = 0 is exactly nll_loss, even with a logit of -inf
    Tensor smooth = -sum(weighted(log_softmax(x.rows, 1), options.weight), {1});  // -Σ_c w_c·log p_{n,c}
    per_row = (1.0 - eps) * per_row +
              (eps / static_cast<double>(classes)) * where(t.kept, smooth, scalar(0.0, smooth.dtype()));
  }
  return reduce_rows(per_row, x.sample_shape, options.reduction, nll.total_weight);
}

Tensor nll_loss(const Tensor& input, const Tensor& target, const NllLossOptions& options) {
  const std::string loss = "nll_loss";
  check_reduction(options.reduction, loss);
  ClassRows x = class_rows(input, loss, "input");
  check_class_weight(options.weight, x.rows.size(1), loss, "weight");
  ClassTargets t = class_targets(target, x.sample_shape, x.rows.size(1), options.ignore_index, input.dtype(), loss);
  Tensor nll_y = -reshape(gather(x.rows, 1, unsqueeze(t.index, 1)), {t.index.numel()});
  WeightedNll nll = weighted_nll(nll_y, t, options.weight);
  return reduce_rows(nll.per_row, x.sample_shape, options.reduction, nll.total_weight);
}

Tensor binary_cross_entropy(const Tensor& input, const Tensor& target, const BinaryCrossEntropyOptions& options) {
  const std::string loss = "binary_cross_entropy";
  check_reduction(options.reduction, loss);
  check_pair(input, target, loss);
  check_broadcasts_to(options.weight, input.shape(), loss, "weight");
  std::vector<double> p = input.to_vector();
  for (std::size_t i = 0; i < p.size(); ++i)
    if (!(p[i] >= 0 && p[i] <= 1))
      fail(loss, "input " + num(p[i]) + " at position " + std::to_string(i) +
                     " is not a probability in [0, 1]; for logits use binary_cross_entropy_with_logits");
  Tensor y = target.to(input.dtype());
  Tensor l = -(y * clamped_log(input) + (1.0 - y) * clamped_log(1.0 - input));
  return reduce(weighted(l, options.weight), options.reduction);
}

Tensor binary_cross_entropy_with_logits(const Tensor& input, const Tensor& target,
                                        const BinaryCrossEntropyWithLogitsOptions& options) {
  const std::string loss = "binary_cross_entropy_with_logits";
  check_reduction(options.reduction, loss);
  check_pair(input, target, loss);
  check_broadcasts_to(options.weight, input.shape(), loss, "weight");
  check_broadcasts_to(options.pos_weight, input.shape(), loss, "pos_weight");
  Tensor y = target.to(input.dtype());
  Tensor positive = options.pos_weight.defined() ? options.pos_weight.to(y.dtype()) * y : y;
  // (1 - y)·x + (1 + (pw - 1)·y)·softplus(-x) rewritten with x + softplus(-x) = softplus(x): no
  // cancellation for y = 0 and x ≪ 0, so the loss keeps its relative precision (e^-700 stays e^-700).
  Tensor l = (1.0 - y) * softplus(input) + positive * softplus(-input);
  return reduce(weighted(l, options.weight), options.reduction);
}

Tensor sigmoid_focal_loss(const Tensor& inputs, const Tensor& targets, const SigmoidFocalLossOptions& options) {
  const std::string loss = "sigmoid_focal_loss";
  check_reduction(options.reduction, loss);
  check_pair(inputs, targets, loss, "inputs", "targets");
  check_gamma(options.gamma, loss);
  const double alpha = options.alpha;
  if (!(alpha <= 1)) fail(loss, "alpha must be in [0, 1] (or negative to turn the weighting off), got " + num(alpha));
  Tensor y = targets.to(inputs.dtype());
  Tensor ce = binary_cross_entropy_with_logits(inputs, y, {.reduction = Reduction::None});
  Tensor one_minus_p_t = sigmoid(inputs) * (1.0 - y) + sigmoid(-inputs) * y;  // = 1 - p·y - (1-p)(1-y)
  Tensor l = focal_factor(one_minus_p_t, options.gamma) * ce;
  if (alpha >= 0) l = (alpha * y + (1.0 - alpha) * (1.0 - y)) * l;
  return reduce(l, options.reduction);
}

Tensor focal_loss(const Tensor& input, const Tensor& target, const FocalLossOptions& options) {
  const std::string loss = "focal_loss";
  check_reduction(options.reduction, loss);
  check_gamma(options.gamma, loss);
  ClassRows x = class_rows(input, loss, "input");
  const std::int64_t classes = x.rows.size(1);
  check_class_weight(options.alpha, classes, loss, "alpha");
  ClassTargets t = class_targets(target, x.sample_shape, classes, std::nullopt, input.dtype(), loss);
  Tensor gap = target_gap(x.rows, t.index);
  Tensor per_row = focal_factor(sigmoid(gap), options.gamma) * softplus(gap);  // (1 - p_y)^γ·(-log p_y), exact
  if (options.alpha.defined()) per_row = index_select(options.alpha.to(input.dtype()), 0, t.index) * per_row;
  return reduce(reshape(per_row, x.sample_shape), options.reduction);
}

Tensor kl_div(const Tensor& input, const Tensor& target, const KlDivOptions& options) {
  const std::string loss = "kl_div";
  check_pair(input, target, loss);
  Tensor t = target.to(input.dtype());
  if (options.log_target) return reduce(exp(t) * (t - input), options.reduction);
  std::vector<double> p = t.to_vector();
  for (std::size_t i = 0; i < p.size(); ++i)
    if (!(p[i] >= 0))
      fail(loss, "target " + num(p[i]) + " at position " + std::to_string(i) +
                     " is not a probability (>= 0); for log-probabilities set log_target");
  Tensor positive = gt(t, 0.0);
  Tensor log_t = log(where(positive, t, scalar(1.0, t.dtype())));
  Tensor l = where(positive, t * (log_t - input), scalar(0.0, t.dtype()));
  return reduce(l, options.reduction);
}

Tensor brier_score(const Tensor& input, const Tensor& target, const BrierScoreOptions& options) {
  const std::string loss = "brier_score";
  check_reduction(options.reduction, loss);
  check_floating(input, loss, "input");
  if (input.dim() != 2) fail(loss, "input must be (N, C) logits, got shape " + to_string(input.shape()));
  const std::int64_t classes = input.size(1);
  Tensor p_minus_y;
  if (target.defined() && is_floating(target.dtype())) {
    if (target.shape() != input.shape())
      fail(loss, "a floating target holds class probabilities and must have the input's shape " +
                     to_string(input.shape()) + ", got " + to_string(target.shape()) + "; pass class indices as int64");
    p_minus_y = softmax(input, 1) - target.to(input.dtype());
  } else {
    // p_y - 1 = -σ(gap) without the cancellation of 1 - p_y (see losses/exact_softmax.h).
    Tensor index = class_targets(target, {input.size(0)}, classes, std::nullopt, input.dtype(), loss).index;
    Tensor miss = unsqueeze(sigmoid(target_gap(input, index)), 1);
    p_minus_y = where(one_hot(index, classes, input.dtype()), -miss, softmax(input, 1));
  }
  check_broadcasts_to(options.weight, input.shape(), loss, "weight");
  Tensor squared_error = pow(p_minus_y, 2.0);
  return reduce(sum(weighted(squared_error, options.weight), {1}), options.reduction);
}

Tensor binary_brier_score(const Tensor& input, const Tensor& target, const BinaryBrierScoreOptions& options) {
  const std::string loss = "binary_brier_score";
  check_reduction(options.reduction, loss);
  check_pair(input, target, loss);
  check_broadcasts_to(options.weight, input.shape(), loss, "weight");
  Tensor y = target.to(input.dtype());
  Tensor squared_error = pow((1.0 - y) * sigmoid(input) - y * sigmoid(-input), 2.0);  // σ(x) - y, exact for 0/1
  return reduce(weighted(squared_error, options.weight), options.reduction);
}

// ---- catalog rows ----

namespace {

using Sample = std::function<std::vector<Tensor>(DType, Generator&)>;
using Call = std::function<Tensor(const std::vector<Tensor>&, const LossParams&, Reduction)>;


// `call` receives every parameter, given or default.
LossSpec row(const std::string& name, const std::string& formula, ClassifierUse use, std::vector<LossInput> inputs,
             std::vector<LossParam> params, std::vector<Reduction> reductions, Sample sample, Call call) {
  return {.name = name,
          .family = "classification",
          .formula = formula,
          .inputs = std::move(inputs),
          .params = std::move(params),
          .reductions = std::move(reductions),
          .sample = std::move(sample),
          .call = std::move(call),
          .classifier = use};
}

const std::vector<Reduction> kNoneMeanSum{Reduction::None, Reduction::Mean, Reduction::Sum};
constexpr std::int64_t kN = 4, kC = 3;

LossInput logits(const std::string& shape = "(N, C) logits") { return {"input", shape, DType::Float32, true}; }
LossInput class_index() { return {"target", "(N) int64 class indices", DType::Int64, false}; }
// Class indices, or (loss eval: a nested array of the input's shape) class probabilities.
LossInput index_or_probabilities() {
  return {"target", "(N) int64 class indices, or (N, C) class probabilities", DType::Int64, false, false, true};
}

Tensor binary_labels(DType dtype, Generator& gen) { return randint(0, 2, {kN, kC}, gen).to(dtype); }

// (N, C) standard normal logits and N class indices.
std::vector<Tensor> logits_and_classes(DType dtype, Generator& gen) {
  return {randn({kN, kC}, dtype, gen), randint(0, kC, {kN}, gen)};
}

}  // namespace

std::vector<LossSpec> classification_losses() {
  std::vector<LossSpec> rows;
  const LossParam ignore_index{"ignore_index", -100, "a target equal to it counts for nothing", ValueRange::index()};
  const LossParam gamma{"gamma", 2, "focusing γ >= 0: (1 - p_t)^γ down-weights easy examples; 0 gives cross-entropy",
                       ValueRange::non_negative()};

  rows.push_back(row(
      "cross_entropy",
      "ℓ_n = (1-ε)·w_{y_n}·(-log softmax(x_n)_{y_n}) + (ε/C)·Σ_c w_c·(-log softmax(x_n)_c); mean = Σ ℓ_n / Σ w_{y_n}; "
      "probabilities q: ℓ_n = -Σ_c w_c·((1-ε)q_{n,c} + ε/C)·log softmax(x_n)_c, mean = Σ ℓ_n / N",
      {ScoresAs::Logits, LabelsAs::Index},
      {logits(), index_or_probabilities(), {"weight", "(C) class weights w_c", DType::Float32, false, true}},
      {ignore_index, {"label_smoothing", 0, "ε in [0, 1]: the target becomes (1-ε)·one-hot + ε/C", ValueRange::probability()}}, kNoneMeanSum,
      logits_and_classes,
      [](const std::vector<Tensor>& in, const LossParams& p, Reduction r) {
        return cross_entropy(in[0], in[1],
                             {.reduction = r,
                              .weight = optional_input(in, 2),
                              .ignore_index = static_cast<std::int64_t>(p.at("ignore_index")),
                              .label_smoothing = p.at("label_smoothing")});
      }));
  rows.back().gradcheck_variants = {{{"label_smoothing", 0.3}}};

  rows.push_back(row(
      "nll_loss", "ℓ_n = -w_{y_n}·x_{n,y_n}, x log-probabilities; mean = Σ ℓ_n / Σ w_{y_n}",
      {ScoresAs::LogSoftmax, LabelsAs::Index},
      {logits("(N, C) log-probabilities"), class_index()}, {ignore_index}, kNoneMeanSum,
      [](DType dt, Generator& gen) {
        return std::vector<Tensor>{log_softmax(randn({kN, kC}, dt, gen), 1).detach(), randint(0, kC, {kN}, gen)};
      },
      [](const std::vector<Tensor>& in, const LossParams& p, Reduction r) {
        return nll_loss(in[0], in[1],
                        {.reduction = r, .ignore_index = static_cast<std::int64_t>(p.at("ignore_index"))});
      }));

  rows.push_back(row(
      "binary_cross_entropy", "ℓ = -[y·max(log p, -100) + (1-y)·max(log(1-p), -100)], p in [0, 1]",
      {ScoresAs::Sigmoid, LabelsAs::OneHot},
      {{"input", "(N, *) probabilities", DType::Float32, true, false, false, true},
       {"target", "same as input, in [0, 1]", DType::Float32, true, false, false, true}},
      {}, kNoneMeanSum,
      [](DType dt, Generator& gen) {
        return std::vector<Tensor>{sigmoid(randn({kN, kC}, dt, gen)).detach(), rand({kN, kC}, dt, gen)};
      },
      [](const std::vector<Tensor>& in, const LossParams&, Reduction r) {
        return binary_cross_entropy(in[0], in[1], {.reduction = r});
      }));

  rows.push_back(row(
      "binary_cross_entropy_with_logits",
      "ℓ = -[pw·y·log σ(x) + (1-y)·log(1-σ(x))] = (1-y)·x + (1+(pw-1)·y)·softplus(-x)",
      {ScoresAs::Logits, LabelsAs::OneHot},
      {logits("(N, *) logits"), {"target", "same as input, in [0, 1]", DType::Float32, true}},
      {{"pos_weight", 1, "weight pw of the positive term, the same for every class"}}, kNoneMeanSum,
      [](DType dt, Generator& gen) {
        return std::vector<Tensor>{randn({kN, kC}, dt, gen), rand({kN, kC}, dt, gen)};
      },
      [](const std::vector<Tensor>& in, const LossParams& p, Reduction r) {
        return binary_cross_entropy_with_logits(
            in[0], in[1], {.reduction = r, .pos_weight = scalar(p.at("pos_weight"), in[0].dtype())});
      }));
  rows.back().gradcheck_variants = {{{"pos_weight", 2.5}}};

  rows.push_back(row(
      "sigmoid_focal_loss",
      "ℓ = α_t·(1-p_t)^γ·BCE(x, y), p_t = p·y + (1-p)(1-y), α_t = α·y + (1-α)(1-y), p = σ(x) "
      "(torchvision; its default reduction is none)",
      {ScoresAs::Logits, LabelsAs::OneHot},
      {{"inputs", "(N, *) logits", DType::Float32, true},
       {"targets", "same as inputs, 0/1 labels", DType::Float32, false}},
      {{"alpha", 0.25, "weight α in [0, 1] of the positives (1-α for negatives); negative: no weighting",
        ValueRange::real(-std::numeric_limits<double>::max(), 1)},
       gamma},
      kNoneMeanSum,
      [](DType dt, Generator& gen) {
        return std::vector<Tensor>{randn({kN, kC}, dt, gen), binary_labels(dt, gen)};
      },
      [](const std::vector<Tensor>& in, const LossParams& p, Reduction r) {
        return sigmoid_focal_loss(in[0], in[1], {.reduction = r, .alpha = p.at("alpha"), .gamma = p.at("gamma")});
      }));
  rows.back().gradcheck_variants = {{{"gamma", 0.5}, {"alpha", 0.7}}, {{"gamma", 0}, {"alpha", -1}}};

  rows.push_back(row(
      "focal_loss", "ℓ_n = -(1-p_{n,y_n})^γ·log p_{n,y_n}, p = softmax(x_n)",
      {ScoresAs::Logits, LabelsAs::Index}, {logits(), class_index()}, {gamma}, kNoneMeanSum, logits_and_classes,
      [](const std::vector<Tensor>& in, const LossParams& p, Reduction r) {
        return focal_loss(in[0], in[1], {.reduction = r, .gamma = p.at("gamma")});
      }));
  rows.back().gradcheck_variants = {{{"gamma", 0.5}}, {{"gamma", 5}}};

  rows.push_back(row(
      "kl_div", "ℓ = p·(log p - input), input = log q; batchmean = Σ ℓ / N = KL(p‖q) per sample; mean = Σ ℓ / (N·C)",
      {ScoresAs::LogSoftmax, LabelsAs::OneHot},
      {logits("(N, C) log-probabilities"),
       {"target", "same as input, probabilities (log-probabilities if log_target)", DType::Float32, true}},
      {{"log_target", 0, "1: the target holds log-probabilities, ℓ = e^t·(t - input)", ValueRange::boolean()}},
      {Reduction::None, Reduction::Mean, Reduction::Sum, Reduction::BatchMean},
      [](DType dt, Generator& gen) {
        return std::vector<Tensor>{log_softmax(randn({kN, kC}, dt, gen), 1).detach(),
                                   softmax(randn({kN, kC}, dt, gen), 1).detach()};
      },
      [](const std::vector<Tensor>& in, const LossParams& p, Reduction r) {
        return kl_div(in[0], in[1], {.reduction = r, .log_target = p.at("log_target") != 0});
      }));
  rows.back().gradcheck_variants = {{{"log_target", 1}}};

  rows.push_back(row(
      "brier_score",
      "ℓ_n = Σ_c w_{n,c}·(softmax(x_n)_c - y_{n,c})², y one-hot or probabilities; sum is seed 003's "
      "Σ_i Σ_j (σ(ŷ_ij) - y_ij)²·w_ij",
      {ScoresAs::Logits, LabelsAs::Index},
      {logits(), index_or_probabilities(),
       {"weight", "(N, C) per-entry weights w_ij, or (C) class weights", DType::Float32, false, true}},
      {}, kNoneMeanSum,
      logits_and_classes,
      [](const std::vector<Tensor>& in, const LossParams&, Reduction r) {
        return brier_score(in[0], in[1], {.reduction = r, .weight = optional_input(in, 2)});
      }));

  rows.push_back(row(
      "binary_brier_score", "ℓ = (σ(x) - y)²",
      {ScoresAs::Logits, LabelsAs::OneHot},
      {logits("(N, *) logits"), {"target", "same as input, in [0, 1]", DType::Float32, false}}, {}, kNoneMeanSum,
      [](DType dt, Generator& gen) {
        return std::vector<Tensor>{randn({kN, kC}, dt, gen), binary_labels(dt, gen)};
      },
      [](const std::vector<Tensor>& in, const LossParams&, Reduction r) {
        return binary_brier_score(in[0], in[1], {.reduction = r});
      }));

  return rows;
}

}  // namespace zg
