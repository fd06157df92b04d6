#pragma once
// Softmax cross-entropy with class-index targets:
//   ℓ_n = -log softmax(x_n)[y_n] = logsumexp(x_n) - x_n[y_n]      x:(N,C) y:(N) int64
#include "losses/reduction.h"

namespace zg {

struct CrossEntropyOptions {
  Reduction reduction = Reduction::Mean;
};

Tensor cross_entropy(const Tensor& input, const Tensor& target, const CrossEntropyOptions& options = {});

}  // namespace zg
