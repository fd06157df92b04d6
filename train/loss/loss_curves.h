#pragma once
// The numbers behind the loss pictures of `zoograd loss plot` and the curves of the browser
// explorer (`zoograd loss explore`, which runs this file compiled to WebAssembly). Every value
// comes from the library's own losses, transforms and autograd in float64, so a picture shows
// what the code computes, not a re-typed formula. Depends on core/ and losses/ only.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "zoograd/core/tensor.h"

namespace zg {

// A loss and its derivative along a sweep of one input, one value per point.
struct LossCurve {
  std::string label;
  std::vector<double> loss, grad;
};

struct RegressionSettings {
  double delta = 1;  // Huber
  double beta = 1;   // smooth L1
  double tau = 0.9;  // quantile
};

// MSE, L1, Huber, smooth L1, log-cosh and quantile at prediction = error, target 0; grad is
// dℓ/d(prediction) from autograd.
std::vector<LossCurve> regression_curves(const std::vector<double>& errors, const RegressionSettings& settings = {});

// sigmoid_focal_loss without α at each p_t ∈ (0, 1) (logit log(p_t / (1 - p_t)), target 1).
std::vector<double> focal_loss_at(const std::vector<double>& p_t, double gamma);

// dℓ/dz_y for 3-class logits (z_y, 0, 0) with true class y = 0, one per z_y, from autograd.
struct TrueLogitGradients {
  std::vector<double> cross_entropy, brier;
};
TrueLogitGradients true_logit_gradients(const std::vector<double>& z_y);

// The margins of the angular losses in the pictures (per unit scale, s = 1, ‖x‖ = 1).
struct AngularSettings {
  double sphereface_m = 4, sphereface_lambda = 0;  // ψ blended with cos θ: (λ cos θ + ψ)/(1 + λ)
  double cosface_m = 0.35;
  double arcface_m = 0.5;
  double m1 = 1, m2 = 0.3, m3 = 0.2;  // insightface's combined margin
};

// An angular-margin loss of the pictures: its target logit per unit scale as a function of cos θ
// (float64, any shape), through the library's transform.
struct AngularTargetLogit {
  std::string name;      // with its margins, e.g. "CosFace m = 0.35"
  std::string boundary;  // the class-1 boundary as the papers write it
  std::function<Tensor(const Tensor& cos_theta)> of;
};

// Modified softmax (cos θ: ‖W‖ = 1, no bias), SphereFace, CosFace, ArcFace and the combined
// margin. Throws std::invalid_argument for a setting the library's transforms refuse.
std::vector<AngularTargetLogit> angular_target_logits(const AngularSettings& settings = {});

// The target logit at each θ (radians).
std::vector<double> target_logit_at(const AngularTargetLogit& loss, const std::vector<double>& theta);

// The class-1 decision boundary of a binary problem in the (θ1, θ2) plane: for each θ1 (radians),
// the θ2 ∈ [0, π] where class 1's target logit equals class 2's plain logit cos θ2; NaN where the
// target logit is below -1, so that class 1 cannot win at that θ1 whatever θ2. The class-2
// boundary is its mirror image in the diagonal θ1 = θ2.
std::vector<double> class1_boundary(const AngularTargetLogit& loss, const std::vector<double>& theta1);

// Where each class meets its margin at the points (a[i], b[i]) of the (θ1, θ2) plane (radians,
// cosines = false) or of the (cos θ1, cos θ2) plane (cosines = true): 1 where class 1's target
// logit beats class 2's plain logit, 2 where class 2's beats class 1's, 0 where neither does (the
// margin band between the two boundaries).
std::vector<int> margin_regions(const AngularTargetLogit& loss, const std::vector<double>& a,
                                const std::vector<double>& b, bool cosines);

// The original softmax's boundary (W1 - W2)·x + b1 - b2 = 0 for a unit feature at angles θ1, θ2
// to weights of norms w1, w2: θ2 where w1 cos θ1 + b1 = w2 cos θ2 + b2 (NaN where none).
std::vector<double> softmax_bias_boundary(const std::vector<double>& theta1, double w1, double w2, double bias_gap);

// normface_loss at each scale s for C classes whose weights form a regular simplex, each feature
// equal to its class's weight: the lowest loss NormFace can reach (Wang et al. 2017, Prop. 2).
std::vector<double> normface_simplex_loss(std::int64_t classes, const std::vector<double>& s);

// The closed form of that bound: log(1 + (C - 1)·exp(-s·C/(C - 1))).
double normface_bound(std::int64_t classes, double s);

// Circle loss's decision boundary for one positive and one negative score: for each s_n, the
// s_p ∈ [0, 1] where the bracket inside the library's circle_loss is 0; NaN where there is none.
std::vector<double> circle_boundary(const std::vector<double>& s_n, double m);

// The gradient (∂ℓ/∂s_n, ∂ℓ/∂s_p) at each point, from autograd: of the library's circle_loss, or
// (circle = false) of the fixed-margin pair loss softplus(γ(s_n - s_p + m)) that circle loss
// generalizes (Sun et al. 2020, eq. 1 with one pair).
struct PairGradients {
  std::vector<double> d_sn, d_sp;
};
PairGradients pair_gradients(const std::vector<double>& s_n, const std::vector<double>& s_p, double m, double gamma,
                             bool circle);

// n evenly spaced values from lo to hi, both ends exact (n >= 2).
std::vector<double> linspace(double lo, double hi, int n);

}  // namespace zg
