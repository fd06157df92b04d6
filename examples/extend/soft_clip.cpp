#include "soft_clip.h"

#include <zoograd/core/ops.h>

SoftClip::SoftClip(double b) { bound = register_parameter("bound", zg::full({1}, b)); }

zg::Tensor SoftClip::forward(const zg::Tensor& x) { return bound * zg::tanh(x / bound); }
