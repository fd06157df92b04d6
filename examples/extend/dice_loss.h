#pragma once
// A loss written outside zoograd: the soft Dice loss of a classifier (Milletari et al., 2016),
//   dice_loss(z, y) = 1 - (2·Σ_c p_c·[y = c] + s) / (Σ_c p_c + 1 + s),   p = softmax(z)
// per sample; input z (N, C) logits, target y (N) int64 class indices; `none` gives (N).
#include <zoograd/core/tensor.h>
#include <zoograd/losses/catalog.h>

struct DiceLossOptions {
  double smooth = 1.0;  // s: keeps the ratio defined, and the loss smooth, for empty predictions
  zg::Reduction reduction = zg::Reduction::Mean;
};

zg::Tensor dice_loss(const zg::Tensor& input, const zg::Tensor& target, const DiceLossOptions& options = {});

// Its catalog row: what zoograd's loss tools and generic checks need to know of it.
zg::LossSpec dice_loss_spec();
