#include "zoograd/core/kernels/conv_lanes.h"

#include <algorithm>
#include <type_traits>
#include <vector>

#include "zoograd/core/kernels/simd.h"
#include "zoograd/core/kernels/parallel.h"

namespace zg::kernel {

namespace {

using simd::kLanes;
using simd::Vec;

constexpr std::int64_t kImagesPerThread = 4;

// A row of `columns` in as few tiles of at most 8 as it takes, of sizes differing by at most one
// (14 columns as 7 + 7, not 8 + 4 + 2: a narrow tile spends as many loads and broadcasts per
// product as a wide one spends on several): calls f(first column, std::integral_constant<int, J>)
// for each tile.
template <class F>
void for_each_tile(std::int64_t columns, F f) {
  const std::int64_t parts = (columns + 7) / 8;
  for (std::int64_t part = 0, j0 = 0; part < parts; ++part) {
    const std::int64_t size = columns / parts + (part < columns % parts ? 1 : 0);
    switch (size) {
      case 8: f(j0, std::integral_constant<int, 8>{}); break;
      case 7: f(j0, std::integral_constant<int, 7>{}); break;
      case 6: f(j0, std::integral_constant<int, 6>{}); break;
      case 5: f(j0, std::integral_constant<int, 5>{}); break;
      case 4: f(j0, std::integral_constant<int, 4>{}); break;
      case 3: f(j0, std::integral_constant<int, 3>{}); break;
      case 2: f(j0, std::integral_constant<int, 2>{}); break;
      default: f(j0, std::integral_constant<int, 1>{}); break;
    }
    j0 += size;
  }
}

// acc[j][v] = Σ over input channels, `rows` kernel rows and the KW taps of a row of
// x[c, row, j + kj] (broadcast) · w[c, row, kj][output vector v], for J output columns and OV
// vectors of output channels. Each input value is broadcast once and serves the KW outputs it
// touches; accumulators, broadcasts and weights (8·2 + 12 + 2 registers for 5x5) stay in registers.
//   x: the first kernel row's input at the tile's first column, planes `plane` apart, rows `pitch`
//   apart; w: its weights as [channel (w_channel apart)][row][kj][ovecs vectors], from vector v0
template <class T, int KW, int J, int OV>
void forward_tile(const T* x, std::int64_t plane, std::int64_t pitch, std::int64_t channels, std::int64_t rows,
                  const Vec<T>* w, std::int64_t w_channel, std::int64_t ovecs, Vec<T> (&acc)[J][OV]) {
  for (int j = 0; j < J; ++j)
    for (int v = 0; v < OV; ++v) acc[j][v] = Vec<T>{};
  for (std::int64_t c = 0; c < channels; ++c, x += plane, w += w_channel) {
    const T* xr = x;
    const Vec<T>* wr = w;
    for (std::int64_t i = 0; i < rows; ++i, xr += pitch, wr += KW * ovecs) {
      Vec<T> xb[J + KW - 1];
      for (int m = 0; m < J + KW - 1; ++m) xb[m] = simd::broadcast(xr[m]);
      for (int kj = 0; kj < KW; ++kj)
        for (int v = 0; v < OV; ++v) {
          const Vec<T> wv = wr[kj * ovecs + v];
          for (int j = 0; j < J; ++j) acc[j][v] += xb[j + kj] * wv;
        }
    }
  }
}

// One image's forward: its input planes (columns padded if pw > 0, rows not), the tiled weights
// [channel][tap][ovecs vectors], bias or null, y (o, oh, ow).
template <class T>
struct ForwardImage {
  const DirectConv& s;
  const T* x;
  std::int64_t pitch;
  const Vec<T>* w;
  std::int64_t ovecs;
  const T* bias;
  T* y;
};

// Output row r, columns [j0, j0 + J), output vectors [v0, v0 + OV): made in registers, written to
// NCHW with the bias.
template <class T, int KW, int J, int OV>
void forward_block(const ForwardImage<T>& f, std::int64_t r, std::int64_t j0, std::int64_t v0) {
  const DirectConv& s = f.s;
  const std::int64_t k0 = std::max<std::int64_t>(0, s.ph - r), k1 = std::min(s.kh, s.h + s.ph - r);
  const std::int64_t oh = s.oh(), ow = s.ow();
  Vec<T> acc[J][OV];
  forward_tile<T, KW, J, OV>(f.x + (r - s.ph + k0) * f.pitch + j0, s.h * f.pitch, f.pitch, s.c, k1 - k0,
                             f.w + k0 * KW * f.ovecs + v0, s.kh * KW * f.ovecs, f.ovecs, acc);
  for (int v = 0; v < OV; ++v)
    for (int l = 0; l < kLanes<T>; ++l) {
      const std::int64_t o = (v0 + v) * kLanes<T> + l;
      if (o >= s.o) return;
      const T shift = f.bias ? f.bias[o] : T(0);
      T* dst = f.y + (o * oh + r) * ow + j0;
      for (int j = 0; j < J; ++j) dst[j] = acc[j][v][l] + shift;
    }
}

template <class T, int KW, int OV>
void forward_row(const ForwardImage<T>& f, std::int64_t r, std::int64_t v0) {
  for_each_tile(f.s.ow(), [&]<int J>(std::int64_t j0, std::integral_constant<int, J>) {
    forward_block<T, KW, J, OV>(f, r, j0, v0);
  });
}

template <class T, int KW>
void forward_image(const ForwardImage<T>& f) {
  for (std::int64_t v0 = 0; v0 < f.ovecs; v0 += 2)
    for (std::int64_t r = 0; r < f.s.oh(); ++r) {
      if (v0 + 1 < f.ovecs) forward_row<T, KW, 2>(f, r, v0);
      else forward_row<T, KW, 1>(f, r, v0);
    }
}

// acc[j + kj] = Σ over output channels, `rows` kernel rows and the KW taps of a row of
// gy[o, row, j] (broadcast) · w[o, ki, kj][input vector]: gradient column j reaches input columns
// j + kj (before the padding's shift), so J gradient columns fill J + KW - 1 accumulators with no
// product wasted. The gradient row falls by one as the kernel row rises.
//   g: the first kernel row's gradient at the tile's first column, output channels o_step apart;
//   w: [output channel (w_out apart)][row][kj] vectors of this input vector, cvecs apart
template <class T, int KW, int J>
void input_grad_tile(const T* g, std::int64_t o_step, std::int64_t ow, std::int64_t outs, std::int64_t rows,
                     const Vec<T>* w, std::int64_t w_out, std::int64_t cvecs, Vec<T> (&acc)[J + KW - 1]) {
  for (int m = 0; m < J + KW - 1; ++m) acc[m] = Vec<T>{};
  for (std::int64_t o = 0; o < outs; ++o, g += o_step, w += w_out) {
    const T* gr = g;
    const Vec<T>* wr = w;
    for (std::int64_t i = 0; i < rows; ++i, gr -= ow, wr += KW * cvecs) {
      Vec<T> gb[J];
      for (int j = 0; j < J; ++j) gb[j] = simd::broadcast(gr[j]);
      for (int kj = 0; kj < KW; ++kj) {
        const Vec<T> wv = wr[kj * cvecs];
        for (int j = 0; j < J; ++j) acc[j + kj] += gb[j] * wv;
      }
    }
  }
}

// One image's input gradient: gy (o, oh, ow), the tiled weights [out][tap][cvecs vectors], a row
// of w + 2·pw scratch vectors, dx (c, h, w).
template <class T>
struct InputGradImage {
  const DirectConv& s;
  const T* gy;
  const Vec<T>* w;
  std::int64_t cvecs;
  Vec<T>* row;
  T* dx;
};

// Adds gradient columns [j0, j0 + J) of input row y, input vector cv, into the row's scratch (at
// input column + pw).
template <class T, int KW, int J>
void input_grad_block(const InputGradImage<T>& f, std::int64_t y, std::int64_t j0, std::int64_t cv) {
  const DirectConv& s = f.s;
  const std::int64_t oh = s.oh(), ow = s.ow();
  const std::int64_t k0 = std::max<std::int64_t>(0, y + s.ph - oh + 1), k1 = std::min(s.kh, y + s.ph + 1);
  Vec<T> acc[J + KW - 1];
  input_grad_tile<T, KW, J>(f.gy + (y + s.ph - k0) * ow + j0, oh * ow, ow, s.o, k1 - k0, f.w + k0 * KW * f.cvecs + cv,
                            s.kh * KW * f.cvecs, f.cvecs, acc);
  for (int m = 0; m < J + KW - 1; ++m) f.row[j0 + m] += acc[m];
}

template <class T, int KW>
void input_grad_image(const InputGradImage<T>& f) {
  const DirectConv& s = f.s;
  const std::int64_t ow = s.ow();
  for (std::int64_t cv = 0; cv < f.cvecs; ++cv)
    for (std::int64_t y = 0; y < s.h; ++y) {
      std::fill_n(f.row, s.w + 2 * s.pw, Vec<T>{});
      for_each_tile(ow, [&]<int J>(std::int64_t j0, std::integral_constant<int, J>) {
        input_grad_block<T, KW, J>(f, y, j0, cv);
      });
      const std::int64_t lanes = std::min<std::int64_t>(kLanes<T>, s.c - cv * kLanes<T>);
      for (std::int64_t l = 0; l < lanes; ++l) {
        T* dst = f.dx + ((cv * kLanes<T> + l) * s.h + y) * s.w;
        for (std::int64_t x = 0; x < s.w; ++x) dst[x] = f.row[x + s.pw][l];
      }
    }
}

// weight (a, b, taps) as vectors along b: [a][tap][vectors of b], zero past b.
template <class T>
std::vector<Vec<T>> lanes_of(const T* weight, std::int64_t a, std::int64_t b, std::int64_t taps, bool b_first) {
  const std::int64_t vecs = (b + kLanes<T> - 1) / kLanes<T>;
  std::vector<Vec<T>> r(static_cast<std::size_t>(a * taps * vecs), Vec<T>{});
  for (std::int64_t i = 0; i < a; ++i)
    for (std::int64_t k = 0; k < b; ++k)
      for (std::int64_t t = 0; t < taps; ++t)
        r[static_cast<std::size_t>((i * taps + t) * vecs + k / kLanes<T>)][k % kLanes<T>] =
            b_first ? weight[(k * a + i) * taps + t] : weight[(i * b + k) * taps + t];
  return r;
}

}  // namespace

template <class T>
bool forward_by_lanes_fits(const DirectConv& s) {
  return s.o >= kLanes<T> && (s.kw == 3 || s.kw == 5) && direct_conv_fits(s);
}

template <class T>
bool input_grad_by_lanes_fits(const DirectConv& s) {
  return s.c >= kLanes<T> && (s.kw == 3 || s.kw == 5) && direct_conv_fits(s);
}

template <class T>
void forward_by_lanes(const DirectConv& s, const T* x, const T* weight, const T* bias, T* y) {
  // The weight (o, c, taps) as [c][tap][vectors of o].
  const std::vector<Vec<T>> w = lanes_of(weight, s.c, s.o, s.kh * s.kw, true);
  const std::int64_t ovecs = (s.o + kLanes<T> - 1) / kLanes<T>, pitch = s.w + 2 * s.pw, oh = s.oh(), ow = s.ow();
  parallel_for(s.n, kImagesPerThread, [&](std::int64_t b0, std::int64_t b1) {
    // Column padding by a copy; rows out of the image are skipped.
    std::vector<T> padded(static_cast<std::size_t>(s.pw > 0 ? s.c * s.h * pitch : 0), T(0));
    for (std::int64_t img = b0; img < b1; ++img) {
      const T* xi = x + img * s.c * s.h * s.w;
      if (s.pw > 0) {
        for (std::int64_t row = 0; row < s.c * s.h; ++row)
          std::copy_n(xi + row * s.w, s.w, padded.data() + row * pitch + s.pw);
        xi = padded.data();
      }
      const ForwardImage<T> f{s, xi, pitch, w.data(), ovecs, bias, y + img * s.o * oh * ow};
      if (s.kw == 5) forward_image<T, 5>(f);
      else forward_image<T, 3>(f);
    }
  });
}

template <class T>
void input_grad_by_lanes(const DirectConv& s, const T* gy, const T* weight, T* dx) {
  // The weight (o, c, taps) as [o][tap][vectors of c].
  const std::vector<Vec<T>> w = lanes_of(weight, s.o, s.c, s.kh * s.kw, false);
  const std::int64_t cvecs = (s.c + kLanes<T> - 1) / kLanes<T>, oh = s.oh(), ow = s.ow();
  parallel_for(s.n, kImagesPerThread, [&](std::int64_t b0, std::int64_t b1) {
    std::vector<Vec<T>> row(static_cast<std::size_t>(s.w + 2 * s.pw));
    for (std::int64_t img = b0; img < b1; ++img) {
      const InputGradImage<T> f{s, gy + img * s.o * oh * ow, w.data(), cvecs, row.data(), dx + img * s.c * s.h * s.w};
      if (s.kw == 5) input_grad_image<T, 5>(f);
      else input_grad_image<T, 3>(f);
    }
  });
}

template bool forward_by_lanes_fits<float>(const DirectConv&);
template bool forward_by_lanes_fits<double>(const DirectConv&);
template bool input_grad_by_lanes_fits<float>(const DirectConv&);
template bool input_grad_by_lanes_fits<double>(const DirectConv&);
template void forward_by_lanes(const DirectConv&, const float*, const float*, const float*, float*);
template void forward_by_lanes(const DirectConv&, const double*, const double*, const double*, double*);
template void input_grad_by_lanes(const DirectConv&, const float*, const float*, float*);
template void input_grad_by_lanes(const DirectConv&, const double*, const double*, double*);

}  // namespace zg::kernel
