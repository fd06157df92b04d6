#include "zoograd/layers/conv2d.h"

#include <cmath>
#include <stdexcept>

#include "zoograd/layers/init.h"

namespace zg {

Conv2d::Conv2d(std::int64_t in_channels, std::int64_t out_channels, Size2 kernel_size, Generator& gen,
               const Conv2dOptions& options)
    : stride(options.stride), padding(options.padding) {
  if (in_channels < 1 || out_channels < 1 || kernel_size.h < 1 || kernel_size.w < 1)
    throw std::invalid_argument("Conv2d: channels and kernel size must be positive, got in " +
                                std::to_string(in_channels) + ", out " + std::to_string(out_channels) + ", kernel " +
                                std::to_string(kernel_size.h) + "x" + std::to_string(kernel_size.w));
  Shape shape{out_channels, in_channels, kernel_size.h, kernel_size.w};
  weight = register_parameter("weight", kaiming_uniform(shape, gen));
  if (options.bias) {
    double b = 1.0 / std::sqrt(static_cast<double>(fan_in(shape)));
    bias = register_parameter("bias", uniform({out_channels}, -b, b, gen));
  }
}

Tensor Conv2d::forward(const Tensor& x) { return conv2d(x, weight, bias, stride, padding); }

}  // namespace zg
