#pragma once
#include "zoograd/core/generator.h"
#include "zoograd/layers/module.h"

namespace zg {

// Training: zeroes each element with probability p and scales the rest by 1/(1-p), so the
// expectation is unchanged. Evaluation: the identity.
class Dropout : public Module {
 public:
  explicit Dropout(double p = 0.5, Generator& gen = default_generator());
  Tensor forward(const Tensor& x) override;

  double p;

 private:
  Generator* gen_;
};

}  // namespace zg
