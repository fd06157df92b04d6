#include "dice_loss.h"

#include <stdexcept>
#include <string>

#include <zoograd/core/ops.h>

zg::Tensor dice_loss(const zg::Tensor& input, const zg::Tensor& target, const DiceLossOptions& o) {
  if (input.dim() != 2 || target.dim() != 1 || target.size(0) != input.size(0))
    throw std::invalid_argument("dice_loss: expected input (N, C) and target (N), got " + zg::to_string(input.shape()) +
                                " and " + zg::to_string(target.shape()));
  zg::Tensor p = zg::softmax(input, 1);
  zg::Tensor y = zg::one_hot(target, input.size(1), input.dtype());
  zg::Tensor overlap = zg::sum(p * y, {1});
  return zg::reduce(1.0 - (2.0 * overlap + o.smooth) / (zg::sum(p, {1}) + 1.0 + o.smooth), o.reduction);
}

zg::LossSpec dice_loss_spec() {
  using namespace zg;
  return {"dice_loss",
          "classification",
          "1 - (2·Σ_c p_c·[y = c] + s) / (Σ_c p_c + 1 + s), p = softmax(z)",
          {{"input", "(N, C) logits", DType::Float32, true}, {"target", "(N) int64 class indices", DType::Int64, false}},
          {{"smooth", 1.0, "added to both sides of the ratio", ValueRange::positive()}},
          {Reduction::None, Reduction::Mean, Reduction::Sum},
          [](DType dtype, Generator& gen) { return std::vector<Tensor>{randn({4, 3}, dtype, gen), randint(0, 3, {4}, gen)}; },
          [](const std::vector<Tensor>& in, const LossParams& p, Reduction r) {
            return dice_loss(in[0], in[1], {.smooth = p.at("smooth"), .reduction = r});
          },
          ClassifierUse{ScoresAs::Logits, LabelsAs::Index}};
}
