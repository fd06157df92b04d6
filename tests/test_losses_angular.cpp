// The angular-margin losses (losses/angular.h): every catalog row gradchecked under every
// reduction and on inputs placed in every branch; values and gradients against an independent
// reference written from the papers' formulas in θ; and properties: ψ, the λ schedule, the
// margin-free limits, reduction identities, float32 against float64, finiteness at cos θ = ±1,
// zero-norm and huge embeddings, and the error messages.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <numbers>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "core/gradcheck.h"
#include "core/ops.h"
#include "losses/angular.h"
#include "losses/catalog.h"
#include "losses/classification.h"
#include "tests/test_util.h"

namespace {

using namespace zg;
using zg_tests::error_of;
using Vec = std::vector<double>;
constexpr double kPi = std::numbers::pi;

const std::vector<Reduction> kReductions{Reduction::None, Reduction::Mean, Reduction::Sum};
const std::vector<std::string> kNames{"modified_softmax_loss", "normface_loss", "lsoftmax_loss",
                                      "sphereface_loss",       "cosface_loss",  "arcface_loss",
                                      "combined_margin_loss"};

// ---- small vector algebra for the reference ----

double dot(const Vec& a, const Vec& b) {
  double s = 0;
  for (std::size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}
double norm(const Vec& a) { return std::sqrt(dot(a, a)); }
Vec scaled(const Vec& a, double k) {
  Vec r = a;
  for (double& v : r) v *= k;
  return r;
}
Vec plus(const Vec& a, const Vec& b) {
  Vec r = a;
  for (std::size_t i = 0; i < a.size(); ++i) r[i] += b[i];
  return r;
}
Vec row_of(const Vec& m, std::size_t i, std::size_t d) { return Vec(m.begin() + i * d, m.begin() + (i + 1) * d); }

// ---- inputs at chosen angles ----

const Vec kWeight{0.9, -0.2, 0.4, -0.5, 0.8, 0.3, 0.1, 0.4, -1.2, 0.7, 0.7, 0.1};  // (4, 3)

// An embedding of norm r at angle θ from w: r·(cos θ ŵ + sin θ u), u ⊥ w a unit vector.
Vec at_angle(const Vec& w, double theta, double r) {
  Vec w_hat = scaled(w, 1 / norm(w));
  Vec u = plus(Vec{0.3, -0.8, 0.5}, scaled(w_hat, -dot(Vec{0.3, -0.8, 0.5}, w_hat)));
  u = scaled(u, 1 / norm(u));
  return scaled(plus(scaled(w_hat, std::cos(theta)), scaled(u, std::sin(theta))), r);
}

struct Problem {
  Tensor x, w, y;
};

// Sample n has target n mod 4 and sits at angle thetas[n] from it with norm norms[n].
Problem problem(const Vec& thetas, const Vec& norms, DType dtype = DType::Float64) {
  Vec x, labels;
  for (std::size_t n = 0; n < thetas.size(); ++n) {
    std::size_t y = n % 4;
    Vec e = at_angle(row_of(kWeight, y, 3), thetas[n], norms[n]);
    x.insert(x.end(), e.begin(), e.end());
    labels.push_back(static_cast<double>(y));
  }
  auto n = static_cast<std::int64_t>(thetas.size());
  return {tensor(x, {n, 3}, dtype).requires_grad_(), tensor(kWeight, {4, 3}, dtype).requires_grad_(),
          tensor(labels, {n}, DType::Int64)};
}

// ---- the reference: softmax cross-entropy written out, with per-logit gradients ----

struct Logit {
  double value;
  Vec d_x, d_w;  // ∂z/∂x_n and ∂z/∂W_j
};
using LogitModel = std::function<Logit(const Vec& x, const Vec& w)>;
// g(cos θ) and dg/dcos θ.
using CosTransform = std::function<std::pair<double, double>(double c)>;

// z = g(c), c = x̂·ŵ:  ∂z/∂x = g'(c)(ŵ - c x̂)/‖x‖,  ∂z/∂w = g'(c)(x̂ - c ŵ)/‖w‖
LogitModel cosine_logit(CosTransform g) {
  return [g](const Vec& x, const Vec& w) {
    Vec x_hat = scaled(x, 1 / norm(x)), w_hat = scaled(w, 1 / norm(w));
    double c = dot(x_hat, w_hat);
    auto [value, slope] = g(c);
    return Logit{value, scaled(plus(w_hat, scaled(x_hat, -c)), slope / norm(x)),
                 scaled(plus(x_hat, scaled(w_hat, -c)), slope / norm(w))};
  };
}

CosTransform scaled_cos(double s) {
  return [s](double c) { return std::pair{s * c, s}; };
}

// z = x·ŵ = ‖x‖ cos θ:  ∂z/∂x = ŵ,  ∂z/∂w = (x - (x·ŵ)ŵ)/‖w‖
Logit modified_logit(const Vec& x, const Vec& w) {
  Vec w_hat = scaled(w, 1 / norm(w));
  return {dot(x, w_hat), w_hat, scaled(plus(x, scaled(w_hat, -dot(x, w_hat))), 1 / norm(w))};
}

// z = W·x
Logit linear_logit(const Vec& x, const Vec& w) { return {dot(x, w), w, x}; }

// ψ(θ) = (-1)^k cos(mθ) - 2k, k = ⌊mθ/π⌋, from θ itself; dψ/dcos θ = (-1)^k m sin(mθ)/sin θ.
std::pair<double, double> psi_from_theta(double theta, int m) {
  int k = std::min(m - 1, static_cast<int>(std::floor(m * theta / kPi)));
  double sign = k % 2 == 0 ? 1.0 : -1.0;
  return {sign * std::cos(m * theta) - 2.0 * k, sign * m * std::sin(m * theta) / std::sin(theta)};
}

// L-Softmax's z = a‖x‖h(c), h = (λc + ψ)/(1 + λ), with a = ‖w‖ (L-Softmax) or 1 (SphereFace,
// which normalizes w).
LogitModel large_margin_logit(int m, double lambda, bool normalized_weight) {
  return [=](const Vec& x, const Vec& w) {
    Vec x_hat = scaled(x, 1 / norm(x)), w_hat = scaled(w, 1 / norm(w));
    double c = dot(x_hat, w_hat);
    auto [psi, psi_slope] = psi_from_theta(std::acos(c), m);
    double h = (lambda * c + psi) / (1 + lambda), h_slope = (lambda + psi_slope) / (1 + lambda);
    Vec dc_dir_x = plus(w_hat, scaled(x_hat, -c)), dc_dir_w = plus(x_hat, scaled(w_hat, -c));
    if (normalized_weight)
      return Logit{norm(x) * h, plus(scaled(x_hat, h), scaled(dc_dir_x, h_slope)),
                   scaled(dc_dir_w, norm(x) * h_slope / norm(w))};
    return Logit{norm(w) * norm(x) * h, scaled(plus(scaled(x_hat, h), scaled(dc_dir_x, h_slope)), norm(w)),
                 scaled(plus(scaled(w_hat, h), scaled(dc_dir_w, h_slope)), norm(x))};
  };
}

struct Expected {
  Vec losses;    // ℓ_n = logsumexp(z_n) - z_ny
  Vec d_x, d_w;  // gradients of mean_n ℓ_n
};

// ∂ℓ_n/∂z_nj = softmax(z_n)_j - [j = y_n].
Expected reference(const Problem& p, const LogitModel& target, const LogitModel& other) {
  Vec x = p.x.to_vector(), w = p.w.to_vector(), y = p.y.to_vector();
  std::size_t n_rows = y.size(), classes = w.size() / 3;
  Expected e{{}, Vec(x.size(), 0.0), Vec(w.size(), 0.0)};
  for (std::size_t n = 0; n < n_rows; ++n) {
    Vec xn = row_of(x, n, 3);
    std::vector<Logit> z;
    double top = -INFINITY;
    for (std::size_t j = 0; j < classes; ++j) {
      z.push_back((j == static_cast<std::size_t>(y[n]) ? target : other)(xn, row_of(w, j, 3)));
      top = std::max(top, z.back().value);
    }
    double total = 0;
    for (const Logit& l : z) total += std::exp(l.value - top);
    e.losses.push_back(top + std::log(total) - z[static_cast<std::size_t>(y[n])].value);
    for (std::size_t j = 0; j < classes; ++j) {
      double delta = (std::exp(z[j].value - top) / total - (j == static_cast<std::size_t>(y[n]) ? 1.0 : 0.0)) /
                     static_cast<double>(n_rows);
      for (std::size_t i = 0; i < 3; ++i) {
        e.d_x[n * 3 + i] += delta * z[j].d_x[i];
        e.d_w[j * 3 + i] += delta * z[j].d_w[i];
      }
    }
  }
  return e;
}

using LossCall = std::function<Tensor(const Problem&, Reduction)>;

void expect_all_near(const Vec& actual, const Vec& expected, double tol, const std::string& what) {
  ASSERT_EQ(actual.size(), expected.size()) << what;
  for (std::size_t i = 0; i < actual.size(); ++i) EXPECT_NEAR(actual[i], expected[i], tol) << what << " element " << i;
}

// Checks the per-sample values and the gradients of the mean against the reference to 1e-10, and
// gradchecks the same inputs (which sit in the branches the case is about) under every reduction.
void expect_matches(const Problem& p, const LossCall& loss, const Expected& e) {
  expect_all_near(loss(p, Reduction::None).to_vector(), e.losses, 1e-10, "values");
  loss(p, Reduction::Mean).backward();
  expect_all_near(p.x.grad().to_vector(), e.d_x, 1e-10, "d/d embeddings");
  expect_all_near(p.w.grad().to_vector(), e.d_w, 1e-10, "d/d weight");
  for (Reduction r : kReductions) {
    GradcheckResult g = gradcheck(
        [&](const std::vector<Tensor>& in) {
          return loss({in[0], in[1], p.y}, r);
        },
        {p.x, p.w});
    EXPECT_TRUE(g.ok) << reduction_name(r) << ": " << g.message;
  }
}

bool all_finite(const Vec& v) {
  for (double x : v)
    if (!std::isfinite(x)) return false;
  return true;
}

// ---- 1. gradcheck of every catalog row under every reduction, from its samples ----

TEST(AngularLosses, CatalogRowsGradcheckUnderEveryReduction) {
  ASSERT_EQ(losses_of_family("angular").size(), kNames.size());
  for (const std::string& name : kNames) {
    const LossSpec& spec = find_loss(name);
    EXPECT_EQ(spec.family, "angular");
    EXPECT_EQ(spec.reductions, kReductions) << name;
    for (std::uint64_t seed : {1, 2}) {
      Generator gen(seed);
      std::vector<Tensor> in = spec.sample(DType::Float64, gen);
      ASSERT_EQ(in.size(), spec.inputs.size()) << name;
      for (std::size_t i = 0; i < in.size(); ++i)
        if (spec.inputs[i].differentiable) in[i].requires_grad_();
      for (Reduction r : spec.reductions) {
        GradcheckResult g = gradcheck([&](const std::vector<Tensor>& v) { return spec.call(v, {}, r); }, in);
        EXPECT_TRUE(g.ok) << name << " seed " << seed << " " << reduction_name(r) << ": " << g.message;
      }
    }
  }
}

// The samples (seeds 1 and 2, as the gradchecks use) keep every target cosine at least 1e-5 from
// the kinks of the default parameters: ±1, L-Softmax's thresholds cos(jπ/4), ArcFace's switch
// cos(π - 0.5) and easy margin's 0. Every row draws the same samples.
TEST(AngularLosses, SamplesStayAwayFromKinks) {
  Vec kinks{-1, 1, 0, std::cos(kPi - 0.5)};
  for (int j = 1; j < 4; ++j) kinks.push_back(std::cos(j * kPi / 4));
  for (std::uint64_t seed : {1, 2}) {
    Generator gen(seed);
    std::vector<Tensor> in = find_loss("arcface_loss").sample(DType::Float64, gen);
    for (const std::string& name : kNames) {
      Generator again(seed);
      std::vector<Tensor> other = find_loss(name).sample(DType::Float64, again);
      for (std::size_t i = 0; i < in.size(); ++i) EXPECT_EQ(other[i].to_vector(), in[i].to_vector()) << name;
    }
    Vec cos_y = gather(cos_theta(in[0], in[1]), 1, unsqueeze(in[2], 1)).to_vector();
    for (double c : cos_y)
      for (double k : kinks) EXPECT_GT(std::abs(c - k), 1e-5) << "seed " << seed << " cos " << c << " kink " << k;
  }
}

// ---- 2. values and gradients against the reference ----

TEST(AngularLosses, ModifiedSoftmaxMatchesReference) {
  // z_j = ‖x‖ cos θ_j, i.e. F.cross_entropy(x @ F.normalize(W).T, y)
  for (const auto& [thetas, norms] : {std::pair{Vec{0.4, 1.9, 2.8}, Vec{1.3, 0.6, 2.2}},
                                      std::pair{Vec{1.1, 0.2, 3.0, 2.2}, Vec{3.0, 0.9, 0.4, 1.7}}}) {
    Problem p = problem(thetas, norms);
    expect_matches(
        p, [](const Problem& q, Reduction r) { return modified_softmax_loss(q.x, q.w, q.y, {.reduction = r}); },
        reference(p, modified_logit, modified_logit));
  }
}

TEST(AngularLosses, NormFaceMatchesReference) {
  // z_j = s cos θ_j, i.e. F.cross_entropy(s * F.normalize(x) @ F.normalize(W).T, y)
  for (double s : {16.0, 1.0}) {
    Problem p = problem({0.4, 1.9, 2.8}, {1.3, 0.6, 2.2});
    expect_matches(
        p, [s](const Problem& q, Reduction r) { return normface_loss(q.x, q.w, q.y, {.s = s, .reduction = r}); },
        reference(p, cosine_logit(scaled_cos(s)), cosine_logit(scaled_cos(s))));
  }
}

TEST(AngularLosses, LSoftmaxMatchesReferenceInEveryInterval) {
  // z_y = ‖W_y‖‖x‖(λ cos θ + ψ(θ))/(1 + λ), ψ from θ; z_j = W_j·x. The angles visit every
  // interval [kπ/m, (k+1)π/m].
  struct Case {
    int m;
    double lambda;
    Vec thetas, norms;
  };
  for (const Case& c :
       {Case{2, 0.0, {0.5, 2.2, 1.2}, {1.3, 0.6, 2.2}}, Case{3, 0.5, {0.4, 1.5, 2.5, 3.0}, {0.8, 1.6, 1.1, 2.0}},
        Case{4, 0.0, {0.3, 1.0, 1.9, 2.9}, {1.2, 0.7, 1.5, 0.9}}}) {
    Problem p = problem(c.thetas, c.norms);
    expect_matches(
        p,
        [&](const Problem& q, Reduction r) {
          return lsoftmax_loss(q.x, q.w, q.y, {.m = c.m, .lambda = c.lambda, .reduction = r});
        },
        reference(p, large_margin_logit(c.m, c.lambda, false), linear_logit));
  }
}

TEST(AngularLosses, SphereFaceMatchesReference) {
  // As L-Softmax with ŵ; λ = max(λ_min, base(1 + γ·iteration)^-power).
  struct Case {
    SphereFaceOptions options;
    double lambda;
    Vec thetas;
  };
  for (const Case& c :
       {Case{{}, 1000.0, {0.3, 1.0, 1.9, 2.9}}, Case{{.iteration = 50}, 1000.0 / 7.0, {0.3, 1.0, 1.9, 2.9}},
        Case{{.m = 3, .base = 0, .lambda_min = 0}, 0.0, {0.4, 1.5, 2.5}}}) {
    EXPECT_NEAR(c.options.lambda(), c.lambda, 1e-12);
    Problem p = problem(c.thetas, {1.2, 0.7, 1.5, 0.9});
    expect_matches(
        p,
        [&](const Problem& q, Reduction r) {
          SphereFaceOptions o = c.options;
          o.reduction = r;
          return sphereface_loss(q.x, q.w, q.y, o);
        },
        reference(p, large_margin_logit(static_cast<int>(c.options.m), c.lambda, true), modified_logit));
  }
}

TEST(AngularLosses, CosFaceMatchesReference) {
  // z_y = s(cos θ_y - m), z_j = s cos θ_j
  for (const auto& [s, m] : {std::pair{30.0, 0.35}, std::pair{10.0, 0.2}}) {
    Problem p = problem({0.4, 1.9, 2.8}, {1.3, 0.6, 2.2});
    CosTransform target = [s, m](double c) { return std::pair{s * (c - m), s}; };
    expect_matches(
        p, [&](const Problem& q, Reduction r) { return cosface_loss(q.x, q.w, q.y, {.s = s, .m = m, .reduction = r}); },
        reference(p, cosine_logit(target), cosine_logit(scaled_cos(s))));
  }
}

// s cos(θ + m), d/dcos θ = s sin(θ + m)/sin θ, from θ; fallback s(cos θ - m sin m) where the
// margin does not apply.
CosTransform arcface_reference(double s, double m, bool easy_margin) {
  return [=](double c) {
    double theta = std::acos(c);
    bool margin = easy_margin ? c > 0 : theta + m < kPi;
    if (!margin) return std::pair{s * (c - (easy_margin ? 0.0 : m * std::sin(m))), s};
    return std::pair{s * std::cos(theta + m), s * std::sin(theta + m) / std::sin(theta)};
  };
}

TEST(AngularLosses, ArcFaceMatchesReferenceOnBothBranches) {
  struct Case {
    ArcFaceOptions options;
    Vec thetas;
  };
  // 2.9 > π - 0.5 takes the fallback; with easy margin, θ > π/2 takes s·cos θ.
  for (const Case& c : {Case{{}, {0.3, 1.2, 2.9}}, Case{{.s = 30, .m = 0.3, .easy_margin = true}, {0.5, 1.8, 2.7}}}) {
    Problem p = problem(c.thetas, {1.3, 0.6, 2.2});
    expect_matches(
        p,
        [&](const Problem& q, Reduction r) {
          ArcFaceOptions o = c.options;
          o.reduction = r;
          return arcface_loss(q.x, q.w, q.y, o);
        },
        reference(p, cosine_logit(arcface_reference(c.options.s, c.options.m, c.options.easy_margin)),
                  cosine_logit(scaled_cos(c.options.s))));
  }
}

TEST(AngularLosses, CombinedMarginMatchesReference) {
  // z_y = s(cos(m1 θ + m2) - m3), d/dcos θ = s m1 sin(m1 θ + m2)/sin θ
  for (const CombinedMarginOptions& o : {CombinedMarginOptions{.s = 30, .m1 = 0.9, .m2 = 0.4, .m3 = 0.15},
                                         CombinedMarginOptions{.s = 20, .m1 = 1.0, .m2 = 0.3, .m3 = 0.2}}) {
    Problem p = problem({0.4, 1.9, 2.8}, {1.3, 0.6, 2.2});
    CosTransform target = [o](double c) {
      double theta = std::acos(c);
      return std::pair{o.s * (std::cos(o.m1 * theta + o.m2) - o.m3),
                       o.s * o.m1 * std::sin(o.m1 * theta + o.m2) / std::sin(theta)};
    };
    expect_matches(
        p,
        [&](const Problem& q, Reduction r) {
          CombinedMarginOptions with = o;
          with.reduction = r;
          return combined_margin_loss(q.x, q.w, q.y, with);
        },
        reference(p, cosine_logit(target), cosine_logit(scaled_cos(o.s))));
  }
}

// ---- 3. properties ----

Vec grid(double lo, double hi, int points) {
  Vec v;
  for (int i = 0; i < points; ++i) v.push_back(lo + (hi - lo) * i / (points - 1));
  return v;
}

Vec cosines(const Vec& thetas) {
  Vec c;
  for (double t : thetas) c.push_back(std::cos(t));
  return c;
}

TEST(AngularLosses, PsiIsContinuousAndDecreasingOverZeroToPi) {
  Vec thetas = grid(0, kPi, 20001);
  double step = kPi / 20000;
  for (int m : {2, 3, 4}) {
    Vec psi = lsoftmax_psi(tensor(cosines(thetas), DType::Float64), m).to_vector();
    EXPECT_NEAR(psi.front(), 1.0, 1e-12) << "m " << m;
    EXPECT_NEAR(psi.back(), 1.0 - 2.0 * m, 1e-9) << "m " << m;
    for (std::size_t i = 1; i < psi.size(); ++i) {
      ASSERT_LE(psi[i], psi[i - 1] + 1e-12) << "m " << m << " not decreasing at θ " << thetas[i];
      // |dψ/dθ| ≤ m, so a step of the grid moves ψ by at most m·step: no jumps.
      ASSERT_LE(psi[i - 1] - psi[i], m * step + 1e-9) << "m " << m << " jumps at θ " << thetas[i];
    }
  }
}

TEST(AngularLosses, PsiMatchesItsDefinitionInThetaAndSoDoesItsGradient) {
  Vec thetas = grid(0.01, kPi - 0.01, 997);  // irregular step: no grid point on a threshold
  for (int m : {1, 2, 3, 4, 5}) {
    Tensor c = tensor(cosines(thetas), DType::Float64).requires_grad_();
    Tensor psi = lsoftmax_psi(c, m);
    sum(psi).backward();
    Vec value = psi.to_vector(), slope = c.grad().to_vector();
    for (std::size_t i = 0; i < thetas.size(); ++i) {
      auto [expected, expected_slope] = psi_from_theta(thetas[i], m);
      ASSERT_NEAR(value[i], expected, 1e-12) << "m " << m << " θ " << thetas[i];
      ASSERT_NEAR(slope[i], expected_slope, 1e-8 * (1 + std::abs(expected_slope))) << "m " << m << " θ " << thetas[i];
    }
  }
}

// The values and both gradients of two losses of (x, W, y), to tol.
void expect_same_loss(const Problem& p, const LossCall& a, const LossCall& b, double tol, const std::string& what) {
  for (Reduction r : kReductions) {
    Tensor x = p.x.detach().clone().requires_grad_(), w = p.w.detach().clone().requires_grad_();
    Tensor x2 = p.x.detach().clone().requires_grad_(), w2 = p.w.detach().clone().requires_grad_();
    Tensor la = a({x, w, p.y}, r), lb = b({x2, w2, p.y}, r);
    expect_all_near(la.to_vector(), lb.to_vector(), tol, what + " value " + reduction_name(r));
    sum(la).backward();
    sum(lb).backward();
    expect_all_near(x.grad().to_vector(), x2.grad().to_vector(), tol, what + " d/d embeddings " + reduction_name(r));
    expect_all_near(w.grad().to_vector(), w2.grad().to_vector(), tol, what + " d/d weight " + reduction_name(r));
  }
}

// F.cross_entropy(x @ W.T, y, reduction=r)
Tensor plain_softmax_loss(const Tensor& x, const Tensor& w, const Tensor& y, Reduction r) {
  CrossEntropyOptions options;
  options.reduction = r;
  return cross_entropy(mm(x, w, false, true), y, options);
}

Problem sample_problem(std::uint64_t seed, DType dtype = DType::Float64) {
  Generator gen(seed);
  std::vector<Tensor> in = find_loss("cosface_loss").sample(dtype, gen);
  return {in[0], in[1], in[2]};
}

TEST(AngularLosses, LSoftmaxWithMOneIsPlainSoftmaxCrossEntropy) {
  // F.cross_entropy(x @ W.T, y) for any λ: ψ = cos θ when m = 1.
  for (double lambda : {0.0, 0.7, 1000.0})
    expect_same_loss(
        sample_problem(3),
        [&](const Problem& q, Reduction r) {
          return lsoftmax_loss(q.x, q.w, q.y, {.m = 1, .lambda = lambda, .reduction = r});
        },
        [](const Problem& q, Reduction r) { return plain_softmax_loss(q.x, q.w, q.y, r); }, 1e-12,
        "λ " + std::to_string(lambda));
}

TEST(AngularLosses, ZeroMarginsGiveNormFace) {
  Problem p = sample_problem(4);
  for (double s : {1.0, 30.0, 64.0}) {
    LossCall normface = [s](const Problem& q, Reduction r) {
      return normface_loss(q.x, q.w, q.y, {.s = s, .reduction = r});
    };
    expect_same_loss(
        p, [s](const Problem& q, Reduction r) { return cosface_loss(q.x, q.w, q.y, {.s = s, .m = 0, .reduction = r}); },
        normface, 1e-12, "cosface m = 0");
    for (bool easy : {false, true})
      expect_same_loss(
          p,
          [=](const Problem& q, Reduction r) {
            return arcface_loss(q.x, q.w, q.y, {.s = s, .m = 0, .easy_margin = easy, .reduction = r});
          },
          normface, 1e-12, "arcface m = 0");
    // acos then cos: equal up to rounding.
    expect_same_loss(
        p,
        [s](const Problem& q, Reduction r) {
          return combined_margin_loss(q.x, q.w, q.y, {.s = s, .m1 = 1, .m2 = 0, .m3 = 0, .reduction = r});
        },
        normface, 1e-10, "combined (1, 0, 0)");
  }
}

TEST(AngularLosses, CombinedMarginContainsCosFaceAndArcFace) {
  Problem p = sample_problem(5);
  expect_same_loss(
      p,
      [](const Problem& q, Reduction r) {
        return combined_margin_loss(q.x, q.w, q.y, {.s = 30, .m1 = 1, .m2 = 0, .m3 = 0.35, .reduction = r});
      },
      [](const Problem& q, Reduction r) { return cosface_loss(q.x, q.w, q.y, {.s = 30, .m = 0.35, .reduction = r}); },
      1e-10, "combined (1, 0, m3) = cosface");
  // The samples' target angles are below π - 0.5, where ArcFace has no fallback.
  expect_same_loss(
      p,
      [](const Problem& q, Reduction r) {
        return combined_margin_loss(q.x, q.w, q.y, {.s = 64, .m1 = 1, .m2 = 0.5, .m3 = 0, .reduction = r});
      },
      [](const Problem& q, Reduction r) { return arcface_loss(q.x, q.w, q.y, {.reduction = r}); }, 1e-10,
      "combined (1, m2, 0) = arcface");
}

TEST(AngularLosses, SphereFaceSpansModifiedSoftmaxToLSoftmaxOnNormalizedWeights) {
  Problem p = sample_problem(6);
  // λ = 0: L-Softmax with normalized weights.
  expect_same_loss(
      p,
      [](const Problem& q, Reduction r) {
        return sphereface_loss(q.x, q.w, q.y, {.m = 3, .base = 0, .lambda_min = 0, .reduction = r});
      },
      [](const Problem& q, Reduction r) {
        return lsoftmax_loss(q.x, normalize(q.w, 2.0, 1), q.y, {.m = 3, .lambda = 0, .reduction = r});
      },
      1e-12, "λ = 0");
  // λ → ∞: the margin fades and the modified softmax remains (the difference is O(1/λ)).
  expect_same_loss(
      p, [](const Problem& q, Reduction r) { return sphereface_loss(q.x, q.w, q.y, {.base = 1e12, .reduction = r}); },
      [](const Problem& q, Reduction r) { return modified_softmax_loss(q.x, q.w, q.y, {.reduction = r}); }, 1e-10,
      "λ = 1e12");
}

TEST(AngularLosses, MarginsNeverLowerTheLoss) {
  // The target logit with a margin is at most the margin-free one, so each sample's loss is at
  // least NormFace's (or softmax's, for L-Softmax).
  for (std::uint64_t seed : {7, 8, 9}) {
    Problem p = sample_problem(seed);
    Vec normface = normface_loss(p.x, p.w, p.y, {.s = 30, .reduction = Reduction::None}).to_vector();
    Vec plain = plain_softmax_loss(p.x, p.w, p.y, Reduction::None).to_vector();
    std::vector<std::pair<std::string, Vec>> with_margin{
        {"cosface", cosface_loss(p.x, p.w, p.y, {.s = 30, .reduction = Reduction::None}).to_vector()},
        {"arcface", arcface_loss(p.x, p.w, p.y, {.s = 30, .reduction = Reduction::None}).to_vector()},
        {"combined",
         combined_margin_loss(p.x, p.w, p.y, {.s = 30, .m1 = 1.2, .m2 = 0.2, .m3 = 0.1, .reduction = Reduction::None})
             .to_vector()}};
    for (const auto& [name, losses] : with_margin)
      for (std::size_t n = 0; n < losses.size(); ++n) EXPECT_GT(losses[n], normface[n]) << name << " sample " << n;
    for (std::int64_t m : {2, 3, 4}) {
      Vec large = lsoftmax_loss(p.x, p.w, p.y, {.m = m, .reduction = Reduction::None}).to_vector();
      for (std::size_t n = 0; n < large.size(); ++n) EXPECT_GE(large[n], plain[n]) << "lsoftmax m " << m;
    }
  }
}

TEST(AngularLosses, ArcFaceAtItsSwitches) {
  // Left of θ = π - m the logit is s cos(θ + m) → -s; right of it insightface's fallback
  // s(cos θ - m sin m) → s(-cos m - m sin m). The fallback is not continuous with cos(θ + m): it
  // starts s(cos m + m sin m - 1) lower (≈ s m²/2), so the logit keeps decreasing in θ.
  for (double m : {0.1, 0.5, 1.0, 2.0}) {
    double s = 64, switch_at = kPi - m, h = 1e-9;
    Vec around =
        arcface_target_logit(tensor(cosines({switch_at - h, switch_at + h}), DType::Float64), s, m).to_vector();
    EXPECT_NEAR(around[0], -s, 1e-6) << "m " << m;
    EXPECT_NEAR(around[1], s * (-std::cos(m) - m * std::sin(m)), 1e-6) << "m " << m;
    EXPECT_NEAR(around[0] - around[1], s * (std::cos(m) + m * std::sin(m) - 1), 1e-6) << "m " << m;
    // Each branch is continuous up to the switch and the whole curve decreases over [0, π].
    Vec thetas = grid(0, kPi, 4001);
    Vec logit = arcface_target_logit(tensor(cosines(thetas), DType::Float64), s, m).to_vector();
    for (std::size_t i = 1; i < logit.size(); ++i) {
      ASSERT_LT(logit[i], logit[i - 1]) << "m " << m << " θ " << thetas[i];
      bool crosses_switch = thetas[i - 1] < switch_at && thetas[i] >= switch_at;
      if (!crosses_switch) {
        ASSERT_LE(logit[i - 1] - logit[i], s * (kPi / 4000) * 1.0001) << "m " << m << " θ " << thetas[i];
      }
    }
  }
  // easy_margin switches at cos θ = 0: s cos(π/2 + m) = -s sin m on the left, s·0 on the right.
  Vec around = arcface_target_logit(tensor({1e-12, -1e-12}, DType::Float64), 30, 0.5, true).to_vector();
  EXPECT_NEAR(around[0], -30 * std::sin(0.5), 1e-9);
  EXPECT_NEAR(around[1], 0, 1e-9);
}

TEST(AngularLosses, TransformsWithoutMarginAreTheScaledCosine) {
  Tensor c = tensor({-1, -0.6, 0, 0.3, 0.99, 1}, DType::Float64);
  Vec expected = (7.0 * c).to_vector();
  expect_all_near(cosface_target_logit(c, 7, 0).to_vector(), expected, 0, "cosface");
  expect_all_near(arcface_target_logit(c, 7, 0).to_vector(), expected, 1e-14, "arcface");
  expect_all_near(combined_margin_target_logit(c, 7, 1, 0, 0).to_vector(), expected, 1e-12, "combined");
  expect_all_near(lsoftmax_target_logit(c, 1, 3.0).to_vector(), c.to_vector(), 1e-15, "lsoftmax m = 1");
}

TEST(AngularLosses, TransformsTolerateCosinesRoundedPastOne) {
  // A dot product of unit vectors can round to just outside [-1, 1]; acos would be NaN there.
  using Transform = std::function<Tensor(const Tensor&)>;
  std::vector<std::pair<std::string, Transform>> transforms{
      {"lsoftmax", [](const Tensor& c) { return lsoftmax_target_logit(c, 4, 0.5); }},
      {"cosface", [](const Tensor& c) { return cosface_target_logit(c, 30, 0.35); }},
      {"arcface", [](const Tensor& c) { return arcface_target_logit(c, 64, 0.5); }},
      {"combined", [](const Tensor& c) { return combined_margin_target_logit(c, 64, 0.9, 0.4, 0.15); }}};
  for (const auto& [name, transform] : transforms) {
    Tensor c = tensor({1 + 4e-16, -1 - 4e-16}, DType::Float64).requires_grad_();
    Tensor z = transform(c);
    sum(z).backward();
    EXPECT_TRUE(all_finite(z.to_vector())) << name;
    EXPECT_TRUE(all_finite(c.grad().to_vector())) << name;
  }
  // At the clamp, combined margin takes θ = 0 and θ = π; there t = 0.9π + 0.4 > π, so ψ(t) = -cos t - 2.
  Vec z = combined_margin_target_logit(tensor({1 + 4e-16, -1 - 4e-16}, DType::Float64), 2, 0.9, 0.4, 0.15).to_vector();
  EXPECT_NEAR(z[0], 2 * (std::cos(0.4) - 0.15), 1e-15);
  EXPECT_NEAR(z[1], 2 * (-std::cos(0.9 * kPi + 0.4) - 2 - 0.15), 1e-15);
}

TEST(AngularLosses, LambdaSchedule) {
  // λ = max(λ_min, base·(1 + γ·iteration)^-power)
  EXPECT_DOUBLE_EQ(lsoftmax_lambda(0, 1000, 0.12, 1, 5), 1000);
  EXPECT_DOUBLE_EQ(lsoftmax_lambda(100, 1000, 0.12, 1, 5), 1000 / 13.0);
  EXPECT_DOUBLE_EQ(lsoftmax_lambda(1000, 1000, 0.12, 1, 5), 1000 / 121.0);
  EXPECT_DOUBLE_EQ(lsoftmax_lambda(1650, 1000, 0.12, 1, 5), 1000 / 199.0);
  EXPECT_DOUBLE_EQ(lsoftmax_lambda(2000, 1000, 0.12, 1, 5), 5);  // 1000/241 < 5: the floor
  EXPECT_DOUBLE_EQ(lsoftmax_lambda(10, 100, 0.5, 2, 0), 100 / 36.0);
  EXPECT_DOUBLE_EQ(lsoftmax_lambda(123, 7, 0, 1, 0), 7);  // γ = 0: constant
  EXPECT_DOUBLE_EQ(SphereFaceOptions{}.lambda(), 1000);
  EXPECT_DOUBLE_EQ(SphereFaceOptions{.iteration = 100}.lambda(), 1000 / 13.0);
  EXPECT_DOUBLE_EQ(SphereFaceOptions{.iteration = 1000000}.lambda(), 5);
}

TEST(AngularLosses, NearZeroAtAPerfectPrediction) {
  // Every class other than the target points the opposite way: the target's softmax probability
  // is 1 to double precision (the loss has no exact zero, only this limit).
  Tensor w = tensor({1, 0, -1, 0, -1, 0}, {3, 2}, DType::Float64);
  Tensor x = tensor({1000, 0}, {1, 2}, DType::Float64), y = tensor({0}, {1}, DType::Int64);
  Tensor unit = tensor({1, 0}, {1, 2}, DType::Float64);
  EXPECT_LT(modified_softmax_loss(x, w, y).item(), 1e-300);
  EXPECT_LT(lsoftmax_loss(x, w, y).item(), 1e-300);
  EXPECT_LT(sphereface_loss(x, w, y).item(), 1e-300);
  EXPECT_LT(normface_loss(unit, w, y, {.s = 64}).item(), 1e-15);
  EXPECT_LT(cosface_loss(unit, w, y, {.s = 64}).item(), 1e-15);
  EXPECT_LT(arcface_loss(unit, w, y).item(), 1e-15);
  EXPECT_LT(combined_margin_loss(unit, w, y).item(), 1e-15);
}

TEST(AngularLosses, ReductionsShapesAndPrecision) {
  for (const std::string& name : kNames) {
    const LossSpec& spec = find_loss(name);
    for (std::uint64_t seed : {1, 2}) {
      Generator g64(seed), g32(seed);
      std::vector<Tensor> in64 = spec.sample(DType::Float64, g64), in32 = spec.sample(DType::Float32, g32);
      Tensor none = spec.call(in64, {}, Reduction::None);
      EXPECT_EQ(none.shape(), (Shape{in64[0].size(0)})) << name;
      double mean = spec.call(in64, {}, Reduction::Mean).item(), total = spec.call(in64, {}, Reduction::Sum).item();
      EXPECT_NEAR(total, mean * static_cast<double>(in64[0].size(0)), 1e-12 * (1 + std::abs(total))) << name;
      EXPECT_NEAR(mean, sum(none).item() / static_cast<double>(in64[0].size(0)), 1e-12 * (1 + std::abs(mean))) << name;
      for (Reduction r : kReductions) {
        Tensor v32 = spec.call(in32, {}, r);
        EXPECT_EQ(v32.dtype(), DType::Float32) << name;
        // Relative 1e-5, absolute below 1: ℓ = logsumexp(z) - z_y cancels, so a loss far below
        // the logits (s·cos θ, up to 64) keeps only float32's absolute accuracy.
        Vec a = v32.to_vector(), b = spec.call(in64, {}, r).to_vector();
        for (std::size_t i = 0; i < a.size(); ++i)
          EXPECT_NEAR(a[i], b[i], 1e-5 * std::max(1.0, std::abs(b[i])))
              << name << " " << reduction_name(r) << " element " << i;
      }
    }
  }
}

// ---- finiteness at the extremes ----

struct Extreme {
  std::string loss;
  LossParams params;
};

std::vector<Extreme> extremes() {
  std::vector<Extreme> all{{"modified_softmax_loss", {}}};
  for (double s : {1.0, 30.0, 64.0, 100.0}) {
    all.push_back({"normface_loss", {{"s", s}}});
    for (double m : {0.0, 0.35, 1.5, kPi - 0.01}) {
      all.push_back({"cosface_loss", {{"s", s}, {"m", m}}});
      all.push_back({"arcface_loss", {{"s", s}, {"m", m}, {"easy_margin", 0}}});
      all.push_back({"arcface_loss", {{"s", s}, {"m", m}, {"easy_margin", 1}}});
      for (double m1 : {0.5, 1.0, 2.0})
        all.push_back({"combined_margin_loss", {{"s", s}, {"m1", m1}, {"m2", m}, {"m3", 0.35}}});
    }
  }
  for (double m : {1, 2, 3, 4, 5}) {
    for (double lambda : {0.0, 1000.0}) all.push_back({"lsoftmax_loss", {{"m", m}, {"lambda", lambda}}});
    for (double iteration : {0.0, 1e6}) all.push_back({"sphereface_loss", {{"m", m}, {"iteration", iteration}}});
  }
  return all;
}

TEST(AngularLosses, FiniteAtCosineExtremesZeroAndHugeNorms) {
  // Per target cosine: sample 0 has norm 1, sample 1 norm 1e4 (logits of ±1e4 where the norm
  // counts), sample 2 is the zero vector.
  for (double c : {-1.0, -1 + 1e-12, 0.0, 1 - 1e-12, 1.0})
    for (DType dtype : {DType::Float64, DType::Float32}) {
      Problem base = problem({std::acos(c), std::acos(c), 0.0}, {1.0, 1e4, 0.0}, dtype);
      for (const Extreme& e : extremes()) {
        Tensor x = base.x.detach().clone().requires_grad_(), w = base.w.detach().clone().requires_grad_();
        Tensor loss = find_loss(e.loss).call({x, w, base.y}, e.params, Reduction::Sum);
        loss.backward();
        std::string what = e.loss + " cos " + std::to_string(c) + " " + dtype_name(dtype);
        for (const auto& [k, v] : e.params) what += " " + k + "=" + std::to_string(v);
        EXPECT_TRUE(std::isfinite(loss.item())) << what;
        EXPECT_TRUE(all_finite(x.grad().to_vector())) << what;
        EXPECT_TRUE(all_finite(w.grad().to_vector())) << what;
      }
    }
}

TEST(AngularLosses, ExactlyParallelEmbeddingsGiveTheLimitValues) {
  // x = W_0 = e1 and W_1 = e2: cos θ_0 = 1 and cos θ_1 = 0 exactly, so the losses are
  // log(1 + exp(0 - z_0)). ArcFace's sin θ, from the rejection of x̂ from ŵ_0, is 0 there (its floor
  // √(smallest normal) ≈ 1.5e-154 is far below the value's resolution).
  Tensor w = tensor({1, 0, 0, 1}, {2, 2}, DType::Float64);
  Tensor x = tensor({1, 0}, {1, 2}, DType::Float64), y = tensor({0}, {1}, DType::Int64);
  auto loss_of = [](double z0) { return std::log1p(std::exp(-z0)); };
  EXPECT_NEAR(arcface_loss(x, w, y, {.s = 1}).item(), loss_of(std::cos(0.5)), 1e-15);
  EXPECT_NEAR(combined_margin_loss(x, w, y, {.s = 1}).item(), loss_of(std::cos(0.5)), 1e-15);
  EXPECT_NEAR(lsoftmax_loss(x, w, y).item(), loss_of(1.0), 1e-15);  // ‖W_0‖‖x‖ψ(0) = 1
  EXPECT_NEAR(cosface_loss(x, w, y, {.s = 1}).item(), loss_of(1 - 0.35), 1e-15);
}

// ---- errors ----

TEST(AngularLosses, BadShapesAndLabelsAreRejected) {
  Tensor x = zeros({4, 3}, DType::Float64), w = zeros({5, 3}, DType::Float64);
  Tensor y = tensor({0, 1, 2, 4}, {4}, DType::Int64);
  std::string e = error_of([&] { cosface_loss(zeros({4, 2}, DType::Float64), w, y); });
  EXPECT_CONTAINS(e, "cosface_loss");
  EXPECT_CONTAINS(e, "same d");
  EXPECT_CONTAINS(e, "embeddings [4, 2]");
  EXPECT_CONTAINS(e, "weight [5, 3]");
  EXPECT_CONTAINS(error_of([&] { arcface_loss(zeros({4}, DType::Float64), w, y); }), "expected embeddings (N, d)");
  e = error_of([&] { normface_loss(x, w, tensor({0, 1, 2}, {3}, DType::Int64)); });
  EXPECT_CONTAINS(e, "normface_loss: expected target (N) with N = 4");
  EXPECT_CONTAINS(e, "got [3]");
  e = error_of([&] { lsoftmax_loss(x, w, tensor({0, 1, 2, 5}, {4}, DType::Int64)); });
  EXPECT_CONTAINS(e, "lsoftmax_loss: target 5 at position 3 is out of range for 5 classes");
  EXPECT_CONTAINS(error_of([&] {
                    sphereface_loss(x, w, tensor({0, -1, 2, 3}, {4}, DType::Int64));
                  }),
                  "sphereface_loss: target -1 at position 1");
  EXPECT_CONTAINS(error_of([&] {
                    modified_softmax_loss(x, w, tensor({0, 1, 2, 3}, {4}, DType::Float64));
                  }),
                  "modified_softmax_loss: target must hold int64 class indices, got float64");
  e = error_of([&] { combined_margin_loss(x, zeros({5, 3}, DType::Float32), y); });
  EXPECT_CONTAINS(e, "combined_margin_loss: embeddings and weight must share a floating dtype");
  EXPECT_CONTAINS(e, "float64 and float32");
  EXPECT_CONTAINS(error_of([&] {
                    cosface_loss(x, zeros({0, 3}, DType::Float64), tensor({}, {0}, DType::Int64));
                  }),
                  "weight has no rows");
  EXPECT_CONTAINS(
      error_of([&] { arcface_loss(x, w, y, {.reduction = Reduction::BatchMean}); }),
      "arcface_loss: reduction batchmean is not supported (F.cross_entropy has none); use none, mean or sum");
  EXPECT_CONTAINS(error_of([&] {
                    lsoftmax_psi(tensor({1, 2}, {2}, DType::Int64), 2);
                  }),
                  "lsoftmax_psi: cos_theta must be float32 or float64, got int64");
}

TEST(AngularLosses, BadParametersAreRejected) {
  Tensor x = randn({2, 3}, DType::Float64), w = randn({3, 3}, DType::Float64), y = tensor({0, 2}, {2}, DType::Int64);
  EXPECT_CONTAINS(error_of([&] { normface_loss(x, w, y, {.s = 0}); }),
                  "normface_loss: s must be positive and finite, got 0");
  EXPECT_CONTAINS(error_of([&] { cosface_loss(x, w, y, {.s = INFINITY}); }),
                  "cosface_loss: s must be positive and finite, got inf");
  EXPECT_CONTAINS(error_of([&] { cosface_loss(x, w, y, {.m = -0.1}); }),
                  "cosface_loss: m must be finite and >= 0, got -0.1");
  EXPECT_CONTAINS(error_of([&] { arcface_loss(x, w, y, {.m = 3.2}); }),
                  "arcface_loss: m must be an angle in [0, pi) radians, got 3.2");
  EXPECT_CONTAINS(error_of([&] { arcface_loss(x, w, y, {.m = NAN}); }), "arcface_loss: m must be an angle");
  EXPECT_CONTAINS(error_of([&] { lsoftmax_loss(x, w, y, {.m = 0}); }),
                  "lsoftmax_loss: m must be a whole number in [1, 100], got 0");
  EXPECT_CONTAINS(error_of([&] { lsoftmax_loss(x, w, y, {.lambda = -1}); }),
                  "lsoftmax_loss: lambda must be finite and >= 0, got -1");
  EXPECT_CONTAINS(error_of([&] { sphereface_loss(x, w, y, {.iteration = -5}); }),
                  "sphereface_loss: iteration must be >= 0, got -5");
  EXPECT_CONTAINS(error_of([&] { sphereface_loss(x, w, y, {.gamma = -0.1}); }),
                  "sphereface_loss: gamma must be finite and >= 0");
  EXPECT_CONTAINS(error_of([&] { combined_margin_loss(x, w, y, {.m1 = 0}); }),
                  "combined_margin_loss: m1 must be in (0, 100], got 0");
  EXPECT_CONTAINS(error_of([&] { combined_margin_loss(x, w, y, {.m3 = -0.2}); }),
                  "combined_margin_loss: m3 must be finite and >= 0");
  EXPECT_CONTAINS(error_of([] { lsoftmax_lambda(0, -1, 0.12, 1, 5); }),
                  "lsoftmax_lambda: base must be finite and >= 0, got -1");
  Tensor c = tensor({0.5}, DType::Float64);
  EXPECT_CONTAINS(error_of([&] { arcface_target_logit(c, -1, 0.5); }), "arcface_target_logit: s must be positive");
  EXPECT_CONTAINS(error_of([&] { lsoftmax_psi(c, 0); }), "lsoftmax_psi: m must be a whole number in [1, 100]");
  // Through the catalog: whole numbers, flags and parameter names.
  std::vector<Tensor> in{x, w, y};
  EXPECT_CONTAINS(error_of([&] {
                    find_loss("lsoftmax_loss").call(in, {{"m", 2.5}}, Reduction::Mean);
                  }),
                  "lsoftmax_loss: m: expected a whole number in [1, 100], got 2.5");
  EXPECT_CONTAINS(error_of([&] {
                    find_loss("arcface_loss").call(in, {{"easy_margin", 2}}, Reduction::Mean);
                  }),
                  "arcface_loss: easy_margin: expected 0 or 1, got 2");
  EXPECT_CONTAINS(error_of([&] {
                    find_loss("cosface_loss").call(in, {{"margin", 0.2}}, Reduction::Mean);
                  }),
                  "cosface_loss: unknown parameter \"margin\"; its parameters: s, m");
  EXPECT_CONTAINS(error_of([&] {
                    find_loss("modified_softmax_loss").call(in, {{"s", 2}}, Reduction::Mean);
                  }),
                  "(it takes none)");
}

TEST(AngularLosses, CatalogDefaultsAreTheOptionsDefaults) {
  auto defaults = [](const std::string& name) {
    std::map<std::string, double> d;
    for (const LossParam& p : find_loss(name).params) d[p.name] = p.default_value;
    return d;
  };
  EXPECT_EQ(defaults("normface_loss"), (std::map<std::string, double>{{"s", 16}}));
  EXPECT_EQ(defaults("lsoftmax_loss"), (std::map<std::string, double>{{"m", 4}, {"lambda", 0}}));
  EXPECT_EQ(defaults("sphereface_loss"),
            (std::map<std::string, double>{
                {"m", 4}, {"iteration", 0}, {"base", 1000}, {"gamma", 0.12}, {"power", 1}, {"lambda_min", 5}}));
  EXPECT_EQ(defaults("cosface_loss"), (std::map<std::string, double>{{"s", 30}, {"m", 0.35}}));
  EXPECT_EQ(defaults("arcface_loss"), (std::map<std::string, double>{{"s", 64}, {"m", 0.5}, {"easy_margin", 0}}));
  EXPECT_EQ(defaults("combined_margin_loss"),
            (std::map<std::string, double>{{"s", 64}, {"m1", 1}, {"m2", 0.5}, {"m3", 0}}));
  // The catalog call with defaults is the function with default options.
  Problem p = sample_problem(10);
  EXPECT_DOUBLE_EQ(find_loss("arcface_loss").call({p.x, p.w, p.y}, {}, Reduction::Mean).item(),
                   arcface_loss(p.x, p.w, p.y).item());
  EXPECT_DOUBLE_EQ(find_loss("sphereface_loss").call({p.x, p.w, p.y}, {{"iteration", 100}}, Reduction::Sum).item(),
                   sphereface_loss(p.x, p.w, p.y, {.iteration = 100, .reduction = Reduction::Sum}).item());
}

}  // namespace

// Past m1·θ + m2 = π the written formula cos(m1·θ + m2) would rise again; the ψ continuation keeps
// the target logit continuous and decreasing on the whole of [0, π], so no feature gains by
// turning away from its class.
TEST(AngularLosses, CombinedMarginTargetLogitDecreasesOverTheWholeCircle) {
  const int steps = 2001;
  std::vector<double> cosines;
  for (int i = 0; i < steps; ++i) cosines.push_back(std::cos(kPi * i / (steps - 1)));
  Tensor c = tensor(cosines, DType::Float64);
  for (auto [m1, m2, m3] : {std::tuple{1.0, 0.5, 0.0}, {1.0, 0.3, 0.2}, {0.9, 0.4, 0.15}, {2.0, 0.7, 0.1}, {1.35, 0.0, 0.0}}) {
    Vec z = combined_margin_target_logit(c, 1, m1, m2, m3).to_vector();
    for (int i = 1; i < steps; ++i) {
      ASSERT_LT(z[i], z[i - 1]) << m1 << " " << m2 << " " << m3 << " at θ = " << kPi * i / (steps - 1);
      ASSERT_LT(z[i - 1] - z[i], 0.01) << "a jump at θ = " << kPi * i / (steps - 1);  // continuous
    }
    double theta = 0.6;  // where m1·θ + m2 ≤ π the formula as written
    EXPECT_NEAR(combined_margin_target_logit(tensor({std::cos(theta)}, DType::Float64), 1, m1, m2, m3).item(),
                std::cos(m1 * theta + m2) - m3, 1e-12);
  }
}
