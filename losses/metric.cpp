#include "zoograd/losses/metric.h"

#include <cmath>
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "zoograd/losses/catalog.h"
#include "zoograd/losses/checks.h"
#include "zoograd/losses/classification.h"

namespace zg {

namespace {

using checks::check_reduction;
using checks::fail;
using checks::num;

void check_floating(const char* loss, const char* name, const Tensor& t) {
  if (!is_floating(t.dtype()))
    fail(loss, std::string(name) + " must be float32 or float64, got " + dtype_name(t.dtype()) +
                   "; convert it with to(DType::Float32)");
}

void check_embeddings(const char* loss, const char* name, const Tensor& t) {
  check_floating(loss, name, t);
  if (t.dim() != 2)
    fail(loss, std::string(name) + " must be (N, D), one embedding per row, got shape " + to_string(t.shape()) +
                   "; unsqueeze(x, 0) makes a single embedding a batch of one");
}

void check_same_shape(const char* loss, const char* name1, const Tensor& t1, const char* name2, const Tensor& t2) {
  if (t1.shape() != t2.shape())
    fail(loss, std::string(name1) + " and " + name2 + " must have the same shape, got " + to_string(t1.shape()) +
                   " and " + to_string(t2.shape()));
}

void check_positive(const char* loss, const char* name, double v) {
  if (!(v > 0) || !std::isfinite(v)) fail(loss, std::string(name) + " must be positive and finite, got " + num(v));
}

void check_finite(const char* loss, const char* name, double v) {
  if (!std::isfinite(v)) fail(loss, std::string(name) + " must be finite, got " + num(v));
}

// The labels as a tensor of the input's dtype, after checking each is one of `a`, `b`.
Tensor two_valued_labels(const char* loss, const char* name, const Tensor& labels, double a, double b,
                         DType dtype, const char* fix) {
  std::vector<double> y = labels.to_vector();
  for (std::size_t i = 0; i < y.size(); ++i)
    if (y[i] != a && y[i] != b)
      fail(loss, std::string(name) + " must hold " + num(a) + "/" + num(b) + " labels, got " + num(y[i]) +
                     " at position " + std::to_string(i) + "; " + fix);
  return labels.detach().to(dtype);
}

void check_class_labels(const char* loss, const Tensor& embeddings, const Tensor& labels) {
  check_embeddings(loss, "embeddings", embeddings);
  if (labels.dim() != 1 || labels.size(0) != embeddings.size(0))
    fail(loss, "labels must be (N) with N = " + std::to_string(embeddings.size(0)) +
                   " (one per embedding), got shape " + to_string(labels.shape()));
  if (labels.dtype() != DType::Int64)
    fail(loss, std::string("labels must hold int64 class ids, got ") + dtype_name(labels.dtype()));
}

// S_ij = cos(e_i, e_j) for all pairs: (N, D) -> (N, N).
Tensor cosine_similarity_matrix(const Tensor& embeddings) {
  Tensor unit = normalize(embeddings, 2.0, 1);
  return mm(unit, unit, {.transpose_b = true});
}

// The (N, N) 0/1 masks of positive pairs (same label, j ≠ i) and negative pairs (other label).
struct PairMasks {
  Tensor positive, negative;
};
PairMasks pair_masks(const Tensor& labels, DType dtype) {
  const std::int64_t n = labels.size(0);
  Tensor same = eq(unsqueeze(labels, 1), unsqueeze(labels, 0)).to(dtype);
  Tensor index = arange(n, DType::Int64);
  Tensor self = eq(unsqueeze(index, 1), unsqueeze(index, 0)).to(dtype);
  return {same - self, 1.0 - same};
}

// A logit that adds exactly 0 to any logsumexp with a real logit y in it (e^(-1e30 - y) underflows)
// yet is finite, in float32 too. Masking with it rather than -inf gives an anchor without pairs the
// finite value ≈ -1e30, whose softplus is exactly 0 with gradient 0, and keeps every intermediate
// finite, so anomaly mode (which stops at the first inf) can run on these losses.
constexpr double kNoPair = -1e30;

// log Σ_{j: mask_ij} e^(z_ij) along dim 1: (N, N) -> (N).
Tensor logsumexp_over(const Tensor& z, const Tensor& mask) {
  return logsumexp(where(mask, z, scalar(kNoPair, z.dtype())), {1});
}

// The circle-loss logits of eq. (6): -γ α_p (s_p - Δ_p) for positives and γ α_n (s_n - Δ_n) for
// negatives, with α_p = [1 + m - s_p]_+ and α_n = [s_n + m]_+ (detached unless told otherwise).
struct CircleLogits {
  Tensor positive, negative;
};
CircleLogits circle_logits(const char* loss, const Tensor& sp, const Tensor& sn, const CircleLossOptions& o) {
  check_finite(loss, "m", o.m);
  check_positive(loss, "gamma", o.gamma);
  Tensor sp_weight = o.detach_weights ? sp.detach() : sp;
  Tensor sn_weight = o.detach_weights ? sn.detach() : sn;
  Tensor alpha_p = relu(1.0 + o.m - sp_weight);
  Tensor alpha_n = relu(sn_weight + o.m);
  const double delta_p = 1.0 - o.m, delta_n = o.m;
  return {-o.gamma * alpha_p * (sp - delta_p), o.gamma * alpha_n * (sn - delta_n)};
}

// torch.pairwise_distance: ‖x - y + eps‖_p along the last dim. Where the sum is exactly 0 the
// value is 0 and the gradient 0 (PyTorch's norm masks it too), not 0·∞ from the outer power.
Tensor pairwise_distance(const Tensor& x, const Tensor& y, double p, double eps) {
  Tensor powered = sum(pow(abs(x - y + eps), p), {-1});
  Tensor zero = eq(powered, 0.0);
  return where(zero, zeros_like(powered), pow(where(zero, ones_like(powered), powered), 1.0 / p));
}

}  // namespace

Tensor contrastive_loss(const Tensor& x1, const Tensor& x2, const Tensor& label, const ContrastiveLossOptions& o) {
  const char* loss = "contrastive_loss";
  check_reduction(o.reduction, loss);
  check_embeddings(loss, "x1", x1);
  check_same_shape(loss, "x1", x1, "x2", x2);
  if (label.dim() != 1 || label.size(0) != x1.size(0))
    fail(loss, "label must be (N) with N = " + std::to_string(x1.size(0)) + " (one per pair), got shape " +
                   to_string(label.shape()));
  if (!(o.margin >= 0) || !std::isfinite(o.margin))
    fail(loss, "margin must be finite and >= 0, got " + num(o.margin));
  check_positive(loss, "eps", o.eps);  // it keeps the gradient of the distance finite at 0
  if (o.similar_label != 0 && o.similar_label != 1)
    fail(loss, "similar_label must be 1 (label 1 = similar) or 0 (Hadsell et al.'s Y = 0), got " + num(o.similar_label));
  Tensor y = two_valued_labels(loss, "label", label, 0.0, 1.0, x1.dtype(), "1 = similar pair (0 with similar_label = 0)");
  Tensor similar = o.similar_label == 1 ? y : 1.0 - y;
  Tensor squared_distance = sum(pow(x1 - x2, 2.0), {1});
  Tensor dissimilar = pow(relu(o.margin - sqrt(squared_distance + o.eps)), 2.0);
  Tensor l = similar * squared_distance + (1.0 - similar) * dissimilar;
  return reduce(o.half ? 0.5 * l : l, o.reduction);
}

Tensor triplet_margin_loss(const Tensor& anchor, const Tensor& positive, const Tensor& negative,
                           const TripletMarginLossOptions& o) {
  const char* loss = "triplet_margin_loss";
  check_reduction(o.reduction, loss);
  check_floating(loss, "anchor", anchor);
  if (anchor.dim() != 1 && anchor.dim() != 2)
    fail(loss, "anchor must be (N, D) or (D), got shape " + to_string(anchor.shape()));
  check_same_shape(loss, "anchor", anchor, "positive", positive);
  check_same_shape(loss, "anchor", anchor, "negative", negative);
  check_finite(loss, "margin", o.margin);
  check_positive(loss, "p", o.p);
  if (!(o.eps >= 0) || !std::isfinite(o.eps)) fail(loss, "eps must be finite and >= 0, got " + num(o.eps));

  Tensor to_positive = pairwise_distance(anchor, positive, o.p, o.eps);
  Tensor to_negative = pairwise_distance(anchor, negative, o.p, o.eps);
  if (o.swap) {
    Tensor positive_to_negative = pairwise_distance(positive, negative, o.p, o.eps);
    Tensor swapped = lt(positive_to_negative, to_negative);
    to_negative = where(swapped, positive_to_negative, to_negative);  // the min, one gradient path
  }
  return reduce(relu(o.margin + to_positive - to_negative), o.reduction);
}

Tensor circle_loss(const Tensor& sp, const Tensor& sn, const CircleLossOptions& o) {
  const char* loss = "circle_loss";
  check_reduction(o.reduction, loss);
  check_floating(loss, "sp", sp);
  check_floating(loss, "sn", sn);
  if (sp.dim() != 2 || sn.dim() != 2 || sp.size(0) != sn.size(0) || sp.size(1) == 0 || sn.size(1) == 0)
    fail(loss, "expected sp (N, K) and sn (N, L) with K, L >= 1, one row of positive and negative scores per anchor, got " +
                   to_string(sp.shape()) + " and " + to_string(sn.shape()));
  CircleLogits z = circle_logits(loss, sp, sn, o);
  return reduce(softplus(logsumexp(z.negative, {1}) + logsumexp(z.positive, {1})), o.reduction);
}

Tensor circle_loss_from_embeddings(const Tensor& embeddings, const Tensor& labels, const CircleLossOptions& o) {
  const char* loss = "circle_loss_from_embeddings";
  check_reduction(o.reduction, loss);
  check_class_labels(loss, embeddings, labels);
  Tensor s = cosine_similarity_matrix(embeddings);
  PairMasks mask = pair_masks(labels, s.dtype());
  CircleLogits z = circle_logits(loss, s, s, o);
  return reduce(softplus(logsumexp_over(z.negative, mask.negative) + logsumexp_over(z.positive, mask.positive)),
                o.reduction);
}

Tensor info_nce_loss(const Tensor& query, const Tensor& key, const InfoNCELossOptions& o) {
  const char* loss = "info_nce_loss";
  check_reduction(o.reduction, loss);
  check_embeddings(loss, "query", query);
  check_same_shape(loss, "query", query, "key", key);
  check_positive(loss, "temperature", o.temperature);
  Tensor logits = mm(normalize(query, 2.0, 1), normalize(key, 2.0, 1), {.transpose_b = true}) / o.temperature;
  Tensor matching_key = arange(query.size(0), DType::Int64);  // the diagonal
  CrossEntropyOptions plain;  // no class weights, no smoothing
  plain.reduction = o.reduction;
  return cross_entropy(logits, matching_key, plain);
}

Tensor multi_similarity_loss(const Tensor& embeddings, const Tensor& labels, const MultiSimilarityLossOptions& o) {
  const char* loss = "multi_similarity_loss";
  check_reduction(o.reduction, loss);
  check_class_labels(loss, embeddings, labels);
  check_positive(loss, "alpha", o.alpha);
  check_positive(loss, "beta", o.beta);
  check_finite(loss, "base", o.base);
  Tensor s = cosine_similarity_matrix(embeddings);
  PairMasks mask = pair_masks(labels, s.dtype());
  // log(1 + Σ e^z) = softplus(logsumexp z)
  Tensor pull = softplus(logsumexp_over(-o.alpha * (s - o.base), mask.positive)) / o.alpha;
  Tensor push = softplus(logsumexp_over(o.beta * (s - o.base), mask.negative)) / o.beta;
  return reduce(pull + push, o.reduction);
}

Tensor cosine_embedding_loss(const Tensor& input1, const Tensor& input2, const Tensor& target,
                             const CosineEmbeddingLossOptions& o) {
  const char* loss = "cosine_embedding_loss";
  check_reduction(o.reduction, loss);
  check_floating(loss, "input1", input1);
  check_same_shape(loss, "input1", input1, "input2", input2);
  const bool batch = input1.dim() == 2;
  if (!(batch || input1.dim() == 1) || target.dim() != input1.dim() - 1 || (batch && target.size(0) != input1.size(0)))
    fail(loss, "expected inputs (N, D) with target (N), or inputs (D) with target (), got " + to_string(input1.shape()) +
                   " and target " + to_string(target.shape()));
  check_finite(loss, "margin", o.margin);
  Tensor y = two_valued_labels(loss, "target", target, 1.0, -1.0, input1.dtype(), "map 0/1 labels with 2·y - 1");

  // PyTorch's EPSILON is a float constant: 1e-12f, which is 9.9999999600e-13 as a double.
  const double epsilon = static_cast<double>(1e-12f);
  const std::int64_t d = input1.dim() - 1;
  Tensor dot = sum(input1 * input2, {d});
  Tensor squared_norms = (sum(input1 * input1, {d}) + epsilon) * (sum(input2 * input2, {d}) + epsilon);
  Tensor cos = dot / sqrt(squared_norms);
  return reduce(where(eq(y, 1.0), 1.0 - cos, relu(cos - o.margin)), o.reduction);
}

Tensor margin_ranking_loss(const Tensor& input1, const Tensor& input2, const Tensor& target,
                           const MarginRankingLossOptions& o) {
  const char* loss = "margin_ranking_loss";
  check_reduction(o.reduction, loss);
  check_floating(loss, "input1", input1);
  check_same_shape(loss, "input1", input1, "input2", input2);
  check_same_shape(loss, "input1", input1, "target", target);
  check_finite(loss, "margin", o.margin);
  Tensor y = two_valued_labels(loss, "target", target, 1.0, -1.0, input1.dtype(),
                               "1 means input1 should rank higher, -1 that input2 should");
  return reduce(relu(-y * (input1 - input2) + o.margin), o.reduction);
}

// ---- catalog rows ----

namespace {

using Sample = std::function<std::vector<Tensor>(DType, Generator&)>;
using RowCall = std::function<Tensor(const std::vector<Tensor>&, const LossParams& values, Reduction)>;

LossSpec metric_row(const std::string& name, const std::string& formula, std::vector<LossInput> inputs,
                    std::vector<LossParam> params, Sample sample, RowCall call) {
  const std::size_t count = inputs.size();
  auto checked_call = [name, params, call, count](const std::vector<Tensor>& in, const LossParams& given, Reduction r) {
    if (in.size() != count)
      throw std::invalid_argument(name + ": expects " + std::to_string(count) + " input tensors, got " +
                                  std::to_string(in.size()));
    return call(in, given, r);
  };
  return {name, "metric", formula, std::move(inputs), std::move(params),
          {Reduction::None, Reduction::Mean, Reduction::Sum}, std::move(sample), checked_call};
}

// ---- samples: drawn in float64, converted last, with every kink of the default parameters far away ----

std::vector<double> normals(Generator& gen, std::size_t count) {
  std::vector<double> v(count);
  for (double& x : v) x = gen.normal();
  return v;
}

// count values in [low, low + width).
std::vector<double> uniforms(Generator& gen, std::size_t count, double low, double width) {
  std::vector<double> v(count);
  for (double& x : v) x = low + width * gen.uniform();
  return v;
}

// count values with |x| in [0.1, ∞) and the given sign: no component near 0.
std::vector<double> away_from_zero(Generator& gen, std::size_t count, double sign) {
  std::vector<double> v = normals(gen, count);
  for (double& x : v) x = sign * (0.1 + std::abs(x));
  return v;
}

// A random direction of length 1 in `dims` dimensions.
std::vector<double> unit_vector(Generator& gen, std::size_t dims) {
  for (;;) {
    std::vector<double> u = normals(gen, dims);
    double length = 0;
    for (double x : u) length += x * x;
    length = std::sqrt(length);
    if (length < 0.1) continue;  // too short to normalize accurately
    for (double& x : u) x /= length;
    return u;
  }
}

// x + distance·u, row `row` of a (·, D) matrix.
void place_row(std::vector<double>& out, const std::vector<double>& x, std::size_t row, const std::vector<double>& u,
               double distance) {
  const std::size_t dims = u.size();
  for (std::size_t k = 0; k < dims; ++k) out[row * dims + k] = x[row * dims + k] + distance * u[k];
}

Tensor class_ids(const std::vector<double>& ids) {
  return tensor(ids, {static_cast<std::int64_t>(ids.size())}, DType::Int64);
}

// Pairs at distances 0.3, 0.7, 1.5, 1.1 with labels 1, 0, 0, 1: the dissimilar pairs sit inside
// (0.7) and outside (1.5) the default margin 1, both far from it.
std::vector<Tensor> contrastive_sample(DType dtype, Generator& gen) {
  const std::vector<double> distance{0.3, 0.7, 1.5, 1.1};
  std::vector<double> x1 = normals(gen, 12), x2(12);
  for (std::size_t n = 0; n < 4; ++n) place_row(x2, x1, n, unit_vector(gen, 3), distance[n]);
  return {tensor(x1, {4, 3}, dtype), tensor(x2, {4, 3}, dtype), tensor({1, 0, 0, 1}, {4}, dtype)};
}

// Positive and negative placed along one direction u from the anchor (the negative along -u in rows
// 1 and 3). Then margin + d(a, p) - d(a, n) = 1 + c·(d_p - d_n) = 1 - 0.3c, 1 - 1.6c, 1 + 0.2c,
// 1 - 1.4c, where c = ‖u‖_p ∈ [0.83, 1] for p >= 2 in 3 dimensions: never near the kink at 0. With
// swap, d(p, n) is |d_n - d_p|·c or (d_n + d_p)·c, never near d(a, n).
std::vector<Tensor> triplet_sample(DType dtype, Generator& gen) {
  struct Placement {
    double to_positive, to_negative, negative_side;
  };
  const std::vector<Placement> rows{{0.5, 0.8, 1}, {0.3, 1.9, -1}, {1.2, 1.0, 1}, {0.2, 1.6, -1}};
  std::vector<double> anchor = normals(gen, 12), positive(12), negative(12);
  for (std::size_t n = 0; n < rows.size(); ++n) {
    std::vector<double> u = unit_vector(gen, 3);
    place_row(positive, anchor, n, u, rows[n].to_positive);
    place_row(negative, anchor, n, u, rows[n].negative_side * rows[n].to_negative);
  }
  return {tensor(anchor, {4, 3}, dtype), tensor(positive, {4, 3}, dtype), tensor(negative, {4, 3}, dtype)};
}

// Similarity scores in the typical ranges: positives in [0.2, 0.95), negatives in [-0.15, 0.6),
// away from the weights' kinks s_p = 1 + m and s_n = -m.
std::vector<Tensor> circle_sample(DType dtype, Generator& gen) {
  return {tensor(uniforms(gen, 6, 0.2, 0.75), {3, 2}, dtype), tensor(uniforms(gen, 12, -0.15, 0.75), {3, 4}, dtype)};
}

// Embeddings with positive components, so every cosine is in (0, 1]: away from the circle weights'
// kinks. Label 2 has a single member: an anchor without positives.
std::vector<Tensor> labelled_positive_sample(DType dtype, Generator& gen) {
  return {tensor(away_from_zero(gen, 24, 1.0), {6, 4}, dtype), class_ids({0, 0, 1, 1, 2, 0})};
}

std::vector<Tensor> labelled_sample(DType dtype, Generator& gen) {
  return {tensor(normals(gen, 24), {6, 4}, dtype), class_ids({0, 0, 1, 1, 2, 0})};
}

std::vector<Tensor> query_key_sample(DType dtype, Generator& gen) {
  return {tensor(normals(gen, 12), {4, 3}, dtype), tensor(normals(gen, 12), {4, 3}, dtype)};
}

// Positive-component rows; input2 rows 2 and 3 flipped to negative components. cos > 0 in rows 0-1
// and cos < 0 in rows 2-3, so with targets 1, -1, -1, 1 the y = -1 hinge is active in row 1 and
// inactive in row 2, both far from the default margin 0.
std::vector<Tensor> cosine_embedding_sample(DType dtype, Generator& gen) {
  std::vector<double> x1 = away_from_zero(gen, 12, 1.0), x2 = away_from_zero(gen, 6, 1.0),
                      flipped = away_from_zero(gen, 6, -1.0);
  x2.insert(x2.end(), flipped.begin(), flipped.end());
  return {tensor(x1, {4, 3}, dtype), tensor(x2, {4, 3}, dtype), tensor({1, -1, -1, 1}, {4}, dtype)};
}

// |x1 - x2| >= 0.1, and y·(x2 - x1) > 0 (an active hinge) in rows 0, 3, 4 only.
std::vector<Tensor> margin_ranking_sample(DType dtype, Generator& gen) {
  const std::vector<double> side{1, 1, -1, -1, 1};
  std::vector<double> x1 = normals(gen, 5), gap = away_from_zero(gen, 5, 1.0), x2(5);
  for (std::size_t n = 0; n < 5; ++n) x2[n] = x1[n] + side[n] * gap[n];
  return {tensor(x1, {5}, dtype), tensor(x2, {5}, dtype), tensor({1, -1, 1, -1, 1}, {5}, dtype)};
}

const LossInput kEmbeddings{"embeddings", "(N, D)", DType::Float32, true};
const LossInput kClassIds{"labels", "(N), int64 class ids", DType::Int64, false};

std::vector<LossParam> circle_params() {
  return {{"m", 0.25, "the relaxation margin: optima s_p = 1 - m, s_n = m"},
          {"gamma", 256.0, "the scale factor γ > 0"},
          {"detach_weights", 1.0,
           "1 (paper): α_p, α_n get no gradient, so the gradient is not the derivative of the value; 0: they do",
           ValueRange::boolean()}};
}

CircleLossOptions circle_options(const std::string& loss, const LossParams& v, Reduction r) {
  return {.m = v.at("m"), .gamma = v.at("gamma"), .detach_weights = switch_param(loss, v, "detach_weights"), .reduction = r};
}

}  // namespace

std::vector<LossSpec> metric_losses() {
  std::vector<LossSpec> rows;
  rows.push_back(metric_row(
      "contrastive_loss",
      "s·‖x1 - x2‖² + (1 - s)·max(0, margin - √(‖x1 - x2‖² + eps))², s = 1 for a similar pair; "
      "half = 1, similar_label = 0: Hadsell et al.'s (1 - Y)·½D² + Y·½max(0, M - D)²",
      {{"x1", "(N, D)", DType::Float32, true}, {"x2", "(N, D)", DType::Float32, true},
       {"label", "(N), 1 = similar, 0 = dissimilar (similar_label = 0: the other way round)", DType::Float32, false}},
      {{"margin", 1.0, "dissimilar pairs closer than this are pushed apart"},
       {"eps", 1e-12, "smooths the distance so its gradient is finite at 0", ValueRange::positive()},
       {"similar_label", 1.0, "the label of a similar pair; 0 as Hadsell et al. and seed 002 (Y = 0: similar)",
        ValueRange::boolean()},
       {"half", 0.0, "1: the paper's ½ on both terms", ValueRange::boolean()}},
      contrastive_sample, [](const std::vector<Tensor>& in, const LossParams& v, Reduction r) {
        return contrastive_loss(in[0], in[1], in[2],
                                {.margin = v.at("margin"), .eps = v.at("eps"), .reduction = r,
                                 .similar_label = v.at("similar_label"), .half = switch_param("contrastive_loss", v, "half")});
      }));
  // The sample's dissimilar pairs (distances 0.7 and 1.5) sit inside margin 2 too.
  rows.back().gradcheck_variants = {{{"margin", 2.0}}, {{"similar_label", 0.0}, {"half", 1.0}}};
  rows.push_back(metric_row(
      "triplet_margin_loss", "max(0, margin + ‖a - p + eps‖_p - ‖a - n + eps‖_p)",
      {{"anchor", "(N, D)", DType::Float32, true}, {"positive", "(N, D)", DType::Float32, true},
       {"negative", "(N, D)", DType::Float32, true}},
      {{"margin", 1.0, "the required gap between the negative's and the positive's distance"},
       {"p", 2.0, "the norm degree of the distance"},
       {"eps", 1e-6, "added to the difference before the norm, as torch.pairwise_distance"},
       {"swap", 0.0, "1: use min(d(a, n), d(p, n)) as the negative's distance (Balntas et al.)", ValueRange::boolean()}},
      triplet_sample, [](const std::vector<Tensor>& in, const LossParams& v, Reduction r) {
        return triplet_margin_loss(in[0], in[1], in[2],
                                   {.margin = v.at("margin"), .p = v.at("p"), .eps = v.at("eps"),
                                    .swap = switch_param("triplet_margin_loss", v, "swap"), .reduction = r});
      }));
  // The placements hold for p >= 2, with and without swap.
  rows.back().gradcheck_variants = {{{"swap", 1.0}}, {{"p", 3.0}}, {{"p", 3.0}, {"swap", 1.0}}};
  rows.push_back(metric_row(
      "circle_loss",
      "softplus(logsumexp_j γα_n^j(s_n^j - m) + logsumexp_i -γα_p^i(s_p^i - 1 + m)), α_p = [1 + m - s_p]_+, "
      "α_n = [s_n + m]_+",
      {{"sp", "(N, K) positive scores", DType::Float32, true}, {"sn", "(N, L) negative scores", DType::Float32, true}},
      circle_params(), circle_sample, [](const std::vector<Tensor>& in, const LossParams& v, Reduction r) {
        return circle_loss(in[0], in[1], circle_options("circle_loss", v, r));
      }));
  rows.back().gradcheck_params = {{"detach_weights", 0.0}};  // see circle_params()
  rows.back().gradcheck_variants = {{{"m", 0.1}, {"gamma", 32.0}}};
  rows.push_back(metric_row(
      "circle_loss_from_embeddings",
      "circle_loss of every anchor, s = cosine similarity, s_p: same label (j ≠ i), s_n: other labels",
      {kEmbeddings, kClassIds}, circle_params(), labelled_positive_sample,
      [](const std::vector<Tensor>& in, const LossParams& v, Reduction r) {
        return circle_loss_from_embeddings(in[0], in[1], circle_options("circle_loss_from_embeddings", v, r));
      }));
  rows.back().gradcheck_params = {{"detach_weights", 0.0}};  // see circle_params()
  rows.back().gradcheck_variants = {{{"m", 0.4}, {"gamma", 80.0}}};
  rows.push_back(metric_row(
      "info_nce_loss", "-log softmax_j(cos(q_n, k_j) / τ)[n]",
      {{"query", "(N, D)", DType::Float32, true}, {"key", "(N, D), key n matches query n", DType::Float32, true}},
      {{"temperature", 0.1, "τ > 0, divides the cosine similarities"}}, query_key_sample,
      [](const std::vector<Tensor>& in, const LossParams& v, Reduction r) {
        return info_nce_loss(in[0], in[1], {.temperature = v.at("temperature"), .reduction = r});
      }));
  rows.back().gradcheck_variants = {{{"temperature", 0.5}}};
  rows.push_back(metric_row(
      "multi_similarity_loss", "1/α·log(1 + Σ_P e^(-α(S_ik - λ))) + 1/β·log(1 + Σ_N e^(β(S_ik - λ)))",
      {kEmbeddings, kClassIds},
      {{"alpha", 2.0, "α > 0, the weight of positive pairs"},
       {"beta", 50.0, "β > 0, the weight of negative pairs"},
       {"base", 0.5, "λ, the similarity the pairs are measured from"}},
      labelled_sample, [](const std::vector<Tensor>& in, const LossParams& v, Reduction r) {
        return multi_similarity_loss(in[0], in[1],
                                     {.alpha = v.at("alpha"), .beta = v.at("beta"), .base = v.at("base"), .reduction = r});
      }));
  rows.back().gradcheck_variants = {{{"alpha", 1.0}, {"beta", 10.0}, {"base", 0.3}}};
  rows.push_back(metric_row(
      "cosine_embedding_loss", "1 - cos(x1, x2) if y = 1, max(0, cos(x1, x2) - margin) if y = -1",
      {{"input1", "(N, D)", DType::Float32, true}, {"input2", "(N, D)", DType::Float32, true},
       {"target", "(N), 1 or -1", DType::Float32, false}},
      {{"margin", 0.0, "dissimilar pairs with a cosine above this are pushed apart"}}, cosine_embedding_sample,
      [](const std::vector<Tensor>& in, const LossParams& v, Reduction r) {
        return cosine_embedding_loss(in[0], in[1], in[2], {.margin = v.at("margin"), .reduction = r});
      }));
  rows.push_back(metric_row(
      "margin_ranking_loss", "max(0, -y·(x1 - x2) + margin)",
      {{"input1", "(N)", DType::Float32, true}, {"input2", "(N)", DType::Float32, true},
       {"target", "(N), 1: input1 ranks higher, -1: input2 does", DType::Float32, false}},
      {{"margin", 0.0, "the required gap between the two scores"}}, margin_ranking_sample,
      [](const std::vector<Tensor>& in, const LossParams& v, Reduction r) {
        return margin_ranking_loss(in[0], in[1], in[2], {.margin = v.at("margin"), .reduction = r});
      }));
  rows.back().gradcheck_variants = {{{"margin", 0.05}}};  // the sample's gaps are >= 0.1
  return rows;
}

}  // namespace zg
