#pragma once
// The geometry of a convolution or pooling window over an (N, C, H, W) input, checked once
// (core/conv.cpp, core/pool.cpp and the pooling kernels share it).
#include <cstdint>
#include <stdexcept>
#include <string>

#include "zoograd/core/ops.h"

namespace zg::kernel {

struct Geometry {
  std::int64_t n, c, h, w, kh, kw, sh, sw, ph, pw, oh, ow;
};

inline Geometry geometry(const Shape& image, Size2 k, Size2 s, Size2 p, const char* op) {
  if (image.size() != 4)
    throw std::invalid_argument(std::string(op) + ": expected an (N, C, H, W) input, got shape " + to_string(image));
  if (k.h < 1 || k.w < 1 || s.h < 1 || s.w < 1 || p.h < 0 || p.w < 0)
    throw std::invalid_argument(std::string(op) + ": kernel and stride must be positive and padding non-negative, got kernel " +
                                std::to_string(k.h) + "x" + std::to_string(k.w) + ", stride " + std::to_string(s.h) + "x" +
                                std::to_string(s.w) + ", padding " + std::to_string(p.h) + "x" + std::to_string(p.w));
  Geometry g{image[0], image[1], image[2], image[3], k.h, k.w, s.h, s.w, p.h, p.w, 0, 0};
  if (g.h + 2 * g.ph < g.kh || g.w + 2 * g.pw < g.kw)
    throw std::invalid_argument(std::string(op) + ": kernel " + std::to_string(g.kh) + "x" + std::to_string(g.kw) +
                                " is larger than the padded input " + std::to_string(g.h + 2 * g.ph) + "x" +
                                std::to_string(g.w + 2 * g.pw));
  g.oh = (g.h + 2 * g.ph - g.kh) / g.sh + 1;
  g.ow = (g.w + 2 * g.pw - g.kw) / g.sw + 1;
  return g;
}

}  // namespace zg::kernel
