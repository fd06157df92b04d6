#include "zoograd/train/atlas/margin_regions.h"

#include <cmath>
#include <functional>
#include <stdexcept>

#include "zoograd/core/ops.h"
#include "zoograd/losses/angular.h"

namespace zg {

std::optional<std::vector<std::int64_t>> margin_classes(const std::string& loss, const LossParams& p,
                                                         const std::vector<double>& weights, std::int64_t dim,
                                                         const std::vector<double>& directions) {
  // Each loss's logits per unit feature norm (‖x‖ multiplies every logit alike, so it cancels):
  // the plain ones `scale`·cos θ_j (and ‖W_j‖ for L-Softmax's raw weights), the target one
  // through the transform.
  std::function<Tensor(const Tensor&)> transform;
  double scale = 1;
  if (loss == "lsoftmax_loss" || loss == "sphereface_loss") {
    const double lambda = loss == "lsoftmax_loss"
                              ? p.at("lambda")
                              : lsoftmax_lambda(static_cast<std::int64_t>(p.at("iteration")), p.at("base"),
                                                p.at("gamma"), p.at("power"), p.at("lambda_min"));
    const auto m = static_cast<std::int64_t>(p.at("m"));
    transform = [m, lambda](const Tensor& c) { return lsoftmax_target_logit(c, m, lambda); };
  } else if (loss == "cosface_loss") {
    scale = p.at("s");
    transform = [&p](const Tensor& c) { return cosface_target_logit(c, p.at("s"), p.at("m")); };
  } else if (loss == "arcface_loss") {
    scale = p.at("s");
    transform = [&p](const Tensor& c) { return arcface_target_logit(c, p.at("s"), p.at("m"), p.at("easy_margin") != 0); };
  } else if (loss == "combined_margin_loss") {
    scale = p.at("s");
    transform = [&p](const Tensor& c) {
      return combined_margin_target_logit(c, p.at("s"), p.at("m1"), p.at("m2"), p.at("m3"));
    };
  } else {
    return std::nullopt;
  }
  if (dim < 1 || weights.empty() || weights.size() % static_cast<std::size_t>(dim) != 0 ||
      directions.size() % static_cast<std::size_t>(dim) != 0)
    throw std::invalid_argument("margin_classes: " + std::to_string(weights.size()) + " weights and " +
                                std::to_string(directions.size()) + " direction values do not make rows of " +
                                std::to_string(dim));
  NoGradGuard no_grad;
  const auto classes = static_cast<std::int64_t>(weights.size()) / dim;
  const auto m = static_cast<std::int64_t>(directions.size()) / dim;
  const Tensor w = tensor(weights, {classes, dim}, DType::Float64);
  const Tensor cos = cos_theta(tensor(directions, {m, dim}, DType::Float64), w);  // (M, C)
  Tensor norms = ones({1, classes}, DType::Float64);
  if (loss == "lsoftmax_loss") norms = reshape(sqrt(sum(w * w, {1})), {1, classes});
  const std::vector<double> plain = (cos * norms * scale).to_vector(), target = (transform(cos) * norms).to_vector();
  std::vector<std::int64_t> out(static_cast<std::size_t>(m), -1);
  const auto c = static_cast<std::size_t>(classes);
  for (std::size_t i = 0; i < out.size(); ++i)
    for (std::size_t k = 0; k < c && out[i] < 0; ++k) {
      bool wins = true;
      for (std::size_t j = 0; j < c && wins; ++j) wins = j == k || target[i * c + k] > plain[i * c + j];
      if (wins) out[i] = static_cast<std::int64_t>(k);
    }
  return out;
}

}  // namespace zg
