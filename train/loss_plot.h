#pragma once
// `zoograd loss plot`: the teaching pictures of the loss zoo. Every curve is computed by the
// library's own losses, transforms and autograd in float64, so a picture shows what the code
// computes, not a re-typed formula. The numbers behind the pictures are public so that tests can
// hold them against the closed forms.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace zg {

// Writes the loss-zoo teaching pictures (SVG) and an index.html showing them all into dir
// (created if missing); returns the file names written, index.html last.
std::vector<std::string> write_loss_plots(const std::string& dir);

// A loss and its derivative along a sweep of one input, one value per point.
struct LossCurve {
  std::string label;
  std::vector<double> loss, grad;
};

// MSE, L1, Huber (δ 1), smooth L1 (β 1), log-cosh and quantile (τ 0.9) at prediction = error,
// target 0; grad is dℓ/d(prediction) from autograd.
std::vector<LossCurve> regression_curves(const std::vector<double>& errors);

// sigmoid_focal_loss without α at each p_t ∈ (0, 1) (logit log(p_t / (1 - p_t)), target 1).
std::vector<double> focal_loss_at(const std::vector<double>& p_t, double gamma);

// dℓ/dz_y for 3-class logits (z_y, 0, 0) with true class y = 0, one per z_y, from autograd.
struct TrueLogitGradients {
  std::vector<double> cross_entropy, brier;
};
TrueLogitGradients true_logit_gradients(const std::vector<double>& z_y);

// An angular-margin loss of the pictures: its target logit per unit scale (s = 1, ‖x‖ = 1) as a
// function of cos θ (float64, any shape), through the library's transform.
struct AngularTargetLogit {
  std::string name;      // with its margins, e.g. "CosFace m = 0.35"
  std::string boundary;  // the class-1 boundary as the papers write it
  std::function<Tensor(const Tensor& cos_theta)> of;
};

// Softmax (cos θ), SphereFace (ψ, m 4, λ 0), CosFace (m 0.35), ArcFace (m 0.5) and insightface's
// combined margin (m1 1, m2 0.3, m3 0.2).
std::vector<AngularTargetLogit> angular_target_logits();

// The class-1 decision boundary of a binary problem in the (θ1, θ2) plane: for each θ1 (radians),
// the θ2 ∈ [0, π] where class 1's target logit equals class 2's plain logit cos θ2; NaN where the
// target logit is below -1, so that class 1 cannot win at that θ1 whatever θ2. The class-2
// boundary is its mirror image in the diagonal θ1 = θ2.
std::vector<double> class1_boundary(const AngularTargetLogit& loss, const std::vector<double>& theta1);

// normface_loss at each scale s for C classes whose weights form a regular simplex, each feature
// equal to its class's weight: the lowest loss NormFace can reach (Wang et al. 2017, Prop. 2).
std::vector<double> normface_simplex_loss(std::int64_t classes, const std::vector<double>& s);

// The closed form of that bound: log(1 + (C - 1)·exp(-s·C/(C - 1))).
double normface_bound(std::int64_t classes, double s);

// Circle loss's decision boundary for one positive and one negative score: for each s_n, the
// s_p ∈ [0, 1] where the bracket inside the library's circle_loss is 0; NaN where there is none.
std::vector<double> circle_boundary(const std::vector<double>& s_n, double m);

}  // namespace zg
