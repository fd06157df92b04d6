#pragma once
// A layer written outside zoograd: y = a·tanh(x / a), a smooth clip of x to (-a, a) with the
// bound a learned (one scalar). A Module whose forward composes zoograd's ops; autograd derives
// the backward.
#include <zoograd/layers/module.h>

class SoftClip : public zg::Module {
 public:
  explicit SoftClip(double bound = 2.0);
  zg::Tensor forward(const zg::Tensor& x) override;

  zg::Tensor bound;
};
