#include "zoograd/core/kernels/direct_conv.h"

#include <algorithm>
#include <map>
#include <mutex>
#include <vector>

#include "zoograd/core/kernels/conv_lanes.h"
#include "zoograd/core/kernels/simd.h"
#include "zoograd/core/kernels/parallel.h"

namespace zg::kernel {

namespace {

using simd::kLanes;
using simd::Vec;

constexpr int kOutTile = 8;   // output channels per forward tile
constexpr int kMaxVecs = 3;   // vectors of positions per forward tile: 8·3 accumulators + 3 inputs
constexpr int kGradTile = 4;  // output channels per weight-gradient tile
constexpr int kMaxTaps = 5;   // taps of a kernel row per weight-gradient tile: 4·5 accumulators
constexpr std::int64_t kImagesPerThread = 4;
constexpr std::int64_t kBlockBytes = 192 << 10;  // padded images and gradients per weight-gradient block

// One image's planes, zero-padded and flattened with row pitch `pitch`: `positions` outputs
// (oh rows of `pitch`), covered by `vecs` vectors (`padded` values); `plane` values per channel
// leave room for every tap's read past the last vector.
struct Grid {
  std::int64_t pitch, positions, vecs, padded, plane;
};

template <class T>
Grid grid_of(const DirectConv& s) {
  const std::int64_t lanes = kLanes<T>;
  Grid g{};
  g.pitch = s.w + 2 * s.pw;
  g.positions = s.oh() * g.pitch;
  g.vecs = (g.positions + lanes - 1) / lanes;
  g.padded = g.vecs * lanes;
  g.plane = (g.padded + (s.kh - 1) * g.pitch + s.kw - 1 + lanes - 1) / lanes * lanes;
  return g;
}

// Writes image x (c, h, w) into the interior of planes xp; the padding stays as it was (zero).
template <class T>
void pad_image(const DirectConv& s, const Grid& g, const T* x, T* xp) {
  for (std::int64_t c = 0; c < s.c; ++c)
    for (std::int64_t y = 0; y < s.h; ++y)
      simd::copy_short(x + (c * s.h + y) * s.w, s.w, xp + c * g.plane + (y + s.ph) * g.pitch + s.pw);
}

// acc[o][v] = Σ over in-channels and taps of w[o] · x at the tap's offset, for 8 output channels
// and V vectors of positions, kept in registers throughout.
//   x: the first position's input, planes `plane` apart; w: [in channel][tap][8]; out: [8][padded]
template <class T, int V>
void forward_tile(const T* x, std::int64_t plane, const T* w, std::int64_t in_channels, const std::int64_t* offsets,
                  std::int64_t taps, T* out, std::int64_t padded) {
  Vec<T> acc[kOutTile][V] = {};
  for (std::int64_t c = 0; c < in_channels; ++c, x += plane)
    for (std::int64_t t = 0; t < taps; ++t, w += kOutTile) {
      Vec<T> xv[V];
      for (int v = 0; v < V; ++v) xv[v] = simd::load(x + offsets[t] + v * kLanes<T>);
      for (int o = 0; o < kOutTile; ++o) {
        const T wo = w[o];
        for (int v = 0; v < V; ++v) acc[o][v] += wo * xv[v];
      }
    }
  for (int o = 0; o < kOutTile; ++o)
    for (int v = 0; v < V; ++v) simd::store(out + o * padded + v * kLanes<T>, acc[o][v]);
}

// A convolution's weights (out, in, taps) reordered for forward_tile: [tile of 8 out][in][tap][8],
// zero past `out`. With flip_transpose the weight is read as (in, out, taps) with the taps
// reversed: the kernel of the input gradient.
template <class T>
std::vector<T> tiled_weights(const T* weight, std::int64_t out, std::int64_t in, std::int64_t taps,
                             bool flip_transpose) {
  const std::int64_t tiles = (out + kOutTile - 1) / kOutTile;
  std::vector<T> r(static_cast<std::size_t>(tiles * in * taps * kOutTile), T(0));
  for (std::int64_t o = 0; o < out; ++o)
    for (std::int64_t c = 0; c < in; ++c)
      for (std::int64_t t = 0; t < taps; ++t)
        r[static_cast<std::size_t>((((o / kOutTile) * in + c) * taps + t) * kOutTile + o % kOutTile)] =
            flip_transpose ? weight[(c * out + o) * taps + (taps - 1 - t)] : weight[(o * in + c) * taps + t];
  return r;
}

// y (n, s.o, oh, ow) = the convolution of x (n, s.c, h, w) with tiled weights, plus bias.
template <class T>
void convolve(const DirectConv& s, const T* x, const std::vector<T>& tiled, const T* bias, T* y) {
  const Grid g = grid_of<T>(s);
  const std::int64_t taps = s.kh * s.kw, tiles = (s.o + kOutTile - 1) / kOutTile, oh = s.oh(), ow = s.ow();
  std::vector<std::int64_t> offsets;
  for (std::int64_t ki = 0; ki < s.kh; ++ki)
    for (std::int64_t kj = 0; kj < s.kw; ++kj) offsets.push_back(ki * g.pitch + kj);
  parallel_for(s.n, kImagesPerThread, [&](std::int64_t b0, std::int64_t b1) {
    simd::Buffer<T> xp(s.c * g.plane), out(tiles * kOutTile * g.padded);
    for (std::int64_t img = b0; img < b1; ++img) {
      pad_image(s, g, x + img * s.c * s.h * s.w, xp.data());
      for (std::int64_t tile = 0; tile < tiles; ++tile) {
        const T* w = tiled.data() + tile * s.c * taps * kOutTile;
        T* o = out.data() + tile * kOutTile * g.padded;
        // The vectors in as few tiles as kMaxVecs allows, of sizes differing by at most one: a lone
        // 1-vector tile does a third of the work per weight broadcast.
        const std::int64_t parts = (g.vecs + kMaxVecs - 1) / kMaxVecs;
        for (std::int64_t part = 0, v = 0; part < parts; ++part) {
          const std::int64_t size = g.vecs / parts + (part < g.vecs % parts ? 1 : 0);
          const T* xv = xp.data() + v * kLanes<T>;
          T* ov = o + v * kLanes<T>;
          switch (size) {
            case 1: forward_tile<T, 1>(xv, g.plane, w, s.c, offsets.data(), taps, ov, g.padded); break;
            case 2: forward_tile<T, 2>(xv, g.plane, w, s.c, offsets.data(), taps, ov, g.padded); break;
            default: forward_tile<T, 3>(xv, g.plane, w, s.c, offsets.data(), taps, ov, g.padded); break;
          }
          v += size;
        }
      }
      for (std::int64_t o = 0; o < s.o; ++o) {
        const T shift = bias ? bias[o] : T(0);
        T* dst = y + (img * s.o + o) * oh * ow;
        const T* src = out.data() + o * g.padded;
        for (std::int64_t r = 0; r < oh; ++r, dst += ow, src += g.pitch)
          for (std::int64_t c = 0; c < ow; ++c) dst[c] = src[c] + shift;
      }
    }
  });
}

// acc[o][j] += Σ over the images' positions of g[o] · x at tap j of a kernel row, for 4 output
// channels and J taps, accumulated in registers over the positions of a block of images.
//   g: [4][padded] output gradients on the grid (zero at the dropped positions), g_step apart per
//   image; x: the row's first tap's input, x_step apart per image; acc: [4 output channels,
//   `stride` apart][J] running vector sums
template <class T, int J>
void weight_tile(const T* g, std::int64_t padded, std::int64_t g_step, const T* x, std::int64_t x_step,
                 std::int64_t images, std::int64_t vecs, Vec<T>* acc, std::int64_t stride) {
  Vec<T> a[kGradTile][J];
  for (int o = 0; o < kGradTile; ++o)
    for (int j = 0; j < J; ++j) a[o][j] = acc[o * stride + j];
  for (std::int64_t img = 0; img < images; ++img, g += g_step, x += x_step)
    for (std::int64_t v = 0; v < vecs; ++v) {
      Vec<T> gv[kGradTile];
      for (int o = 0; o < kGradTile; ++o) gv[o] = simd::load(g + o * padded + v * kLanes<T>);
      for (int j = 0; j < J; ++j) {
        Vec<T> xv = simd::load(x + v * kLanes<T> + j);
        simd::keep_in_register(xv);
        for (int o = 0; o < kGradTile; ++o) a[o][j] += gv[o] * xv;
      }
    }
  for (int o = 0; o < kGradTile; ++o)
    for (int j = 0; j < J; ++j) acc[o * stride + j] = a[o][j];
}

template <class T>
void weight_row(int taps, const T* g, std::int64_t padded, std::int64_t g_step, const T* x, std::int64_t x_step,
                std::int64_t images, std::int64_t vecs, Vec<T>* acc, std::int64_t stride) {
  switch (taps) {
    case 1: weight_tile<T, 1>(g, padded, g_step, x, x_step, images, vecs, acc, stride); break;
    case 2: weight_tile<T, 2>(g, padded, g_step, x, x_step, images, vecs, acc, stride); break;
    case 3: weight_tile<T, 3>(g, padded, g_step, x, x_step, images, vecs, acc, stride); break;
    case 4: weight_tile<T, 4>(g, padded, g_step, x, x_step, images, vecs, acc, stride); break;
    default: weight_tile<T, 5>(g, padded, g_step, x, x_step, images, vecs, acc, stride); break;
  }
}

}  // namespace

bool direct_conv_fits(const DirectConv& s) {
  return s.ph <= s.kh - 1 && s.pw <= s.kw - 1 && s.oh() >= 1 && s.ow() >= 1;
}

template <class T>
void direct_conv_forward(const DirectConv& s, const T* x, const T* weight, const T* bias, T* y) {
  if (forward_by_lanes_fits<T>(s)) return forward_by_lanes(s, x, weight, bias, y);
  convolve(s, x, tiled_weights(weight, s.o, s.c, s.kh * s.kw, false), bias, y);
}

template <class T>
void direct_conv_input_grad(const DirectConv& s, const T* gy, const T* weight, T* dx) {
  if (input_grad_by_lanes_fits<T>(s)) return input_grad_by_lanes(s, gy, weight, dx);
  // dx = gy (n, o, oh, ow) padded by k - 1 - p, convolved with the flipped, transposed kernel.
  const DirectConv t{s.n, s.o, s.oh(), s.ow(), s.c, s.kh, s.kw, s.kh - 1 - s.ph, s.kw - 1 - s.pw};
  convolve(t, gy, tiled_weights(weight, s.c, s.o, s.kh * s.kw, true), static_cast<const T*>(nullptr), dx);
}

namespace {

// The weight gradient with output channels along the vector lanes: acc[t][v] += x[c] at tap t
// (broadcast) · g[q][output vector v] over the positions q of a block of images, for one input
// channel, every tap (KH×KW) and V vectors of output channels, in registers throughout. Unlike
// weight_tile it spends nothing on the grid's dropped columns, loads each input value once (as a
// broadcast operand), and needs no horizontal sums.
//   x: image 0's padded plane c, x_step apart per image; g: image 0's gradients as (positions,
//   `row` output channels) from output vector v0, g_step apart per image; acc: [tap][V] sums,
//   `stride` apart per tap
template <class T, int KH, int KW, int V>
void channel_tile(const T* x, std::int64_t x_step, std::int64_t pitch, const T* g, std::int64_t g_step,
                  std::int64_t row, std::int64_t images, std::int64_t oh, std::int64_t ow, Vec<T>* acc,
                  std::int64_t stride) {
  Vec<T> a[KH * KW][V];
  for (int t = 0; t < KH * KW; ++t)
    for (int v = 0; v < V; ++v) a[t][v] = acc[t * stride + v];
  for (std::int64_t img = 0; img < images; ++img, x += x_step, g += g_step)
    for (std::int64_t y = 0; y < oh; ++y) {
      const T* xr = x + y * pitch;
      const T* gr = g + y * ow * row;
      for (std::int64_t c = 0; c < ow; ++c, gr += row) {
        Vec<T> gv[V];
        for (int v = 0; v < V; ++v) gv[v] = simd::load(gr + v * kLanes<T>);
        for (int ki = 0; ki < KH; ++ki)
          for (int kj = 0; kj < KW; ++kj) {
            const T xv = xr[ki * pitch + c + kj];
            for (int v = 0; v < V; ++v) a[ki * KW + kj][v] += xv * gv[v];
          }
      }
    }
  for (int t = 0; t < KH * KW; ++t)
    for (int v = 0; v < V; ++v) acc[t * stride + v] = a[t][v];
}

// Whether channel_tile takes the convolution: 3x3 or 5x5 kernels, at least a vector of outputs.
template <class T>
bool by_channel(const DirectConv& s) {
  return s.o >= kLanes<T> && s.kh == s.kw && (s.kh == 3 || (s.kh == 5));
}

// Runs part(b0, b1, sums) over parts of the batch in parallel, each adding its images' gradient
// into its own zeroed sums of `size` values, and adds the parts into out in order, so the result
// does not depend on which thread finishes first.
template <class T, class Part>
void sum_over_images(std::int64_t n, std::int64_t size, T* out, Part part) {
  std::mutex mutex;
  std::map<std::int64_t, std::vector<T>> parts;  // by first image
  parallel_for(n, kImagesPerThread, [&](std::int64_t b0, std::int64_t b1) {
    std::vector<T> sums(static_cast<std::size_t>(size), T(0));
    part(b0, b1, sums.data());
    std::lock_guard lock(mutex);
    parts.emplace(b0, std::move(sums));
  });
  std::fill_n(out, size, T(0));
  for (const auto& entry : parts)
    for (std::size_t e = 0; e < entry.second.size(); ++e) out[e] += entry.second[e];
}

// Images are taken a block at a time, so that the accumulators' round trip to memory between
// tiles is paid once per block rather than once per image.
std::int64_t images_per_block(std::int64_t values_per_image, std::size_t element) {
  return std::clamp<std::int64_t>(kBlockBytes / (values_per_image * static_cast<std::int64_t>(element)), 1, 16);
}

// dst[q·row + o] = src[o·area + q] for o < out: an image's gradient planes as (positions, channels),
// a vector-square block at a time.
template <class T>
void transpose_planes(const T* src, std::int64_t out, std::int64_t area, T* dst, std::int64_t row) {
  constexpr int L = kLanes<T>;
  const std::int64_t whole = area / L * L;
  for (std::int64_t o0 = 0; o0 < out; o0 += L) {
    for (std::int64_t q0 = 0; q0 < whole; q0 += L) {
      Vec<T> r[L];
      for (int i = 0; i < L; ++i) r[i] = o0 + i < out ? simd::load(src + (o0 + i) * area + q0) : Vec<T>{};
      simd::transpose<T>(r);
      for (int i = 0; i < L; ++i) simd::store(dst + (q0 + i) * row + o0, r[i]);
    }
    for (std::int64_t o = o0; o < std::min(out, o0 + L); ++o)
      for (std::int64_t q = whole; q < area; ++q) dst[q * row + o] = src[o * area + q];
  }
}

template <class T>
void weight_grad_by_channel(const DirectConv& s, const T* x, const T* gy, T* dweight) {
  const Grid g = grid_of<T>(s);
  const std::int64_t taps = s.kh * s.kw, oh = s.oh(), ow = s.ow(), vecs = (s.o + kLanes<T> - 1) / kLanes<T>;
  const std::int64_t row = vecs * kLanes<T>, x_step = s.c * g.plane, g_step = oh * ow * row;
  const std::int64_t block = images_per_block(x_step + g_step, sizeof(T));
  // 3x3 tiles take two output vectors (18 accumulators), 5x5 tiles one (25).
  const std::int64_t per_tile = s.kh == 3 ? 2 : 1;
  sum_over_images(s.n, s.o * s.c * taps, dweight, [&](std::int64_t b0, std::int64_t b1, T* sums) {
    simd::Buffer<T> xp(block * x_step), gt(block * g_step);
    std::vector<Vec<T>> acc(static_cast<std::size_t>(s.c * taps * vecs), Vec<T>{});
    for (std::int64_t first = b0; first < b1; first += block) {
      const std::int64_t images = std::min(block, b1 - first);
      for (std::int64_t b = 0; b < images; ++b) {
        pad_image(s, g, x + (first + b) * s.c * s.h * s.w, xp.data() + b * x_step);
        transpose_planes(gy + (first + b) * s.o * oh * ow, s.o, oh * ow, gt.data() + b * g_step, row);
      }
      for (std::int64_t c = 0; c < s.c; ++c)
        for (std::int64_t v = 0; v < vecs; v += per_tile) {
          const T* xc = xp.data() + c * g.plane;
          const T* gv = gt.data() + v * kLanes<T>;
          Vec<T>* a = acc.data() + c * taps * vecs + v;
          if (s.kh == 5) channel_tile<T, 5, 5, 1>(xc, x_step, g.pitch, gv, g_step, row, images, oh, ow, a, vecs);
          else if (v + 1 < vecs) channel_tile<T, 3, 3, 2>(xc, x_step, g.pitch, gv, g_step, row, images, oh, ow, a, vecs);
          else channel_tile<T, 3, 3, 1>(xc, x_step, g.pitch, gv, g_step, row, images, oh, ow, a, vecs);
        }
    }
    for (std::int64_t o = 0; o < s.o; ++o)
      for (std::int64_t ct = 0; ct < s.c * taps; ++ct)
        sums[o * s.c * taps + ct] = acc[static_cast<std::size_t>(ct * vecs + o / kLanes<T>)][o % kLanes<T>];
  });
}

template <class T>
void weight_grad_by_position(const DirectConv& s, const T* x, const T* gy, T* dweight) {
  const Grid g = grid_of<T>(s);
  const std::int64_t taps = s.kh * s.kw, oh = s.oh(), ow = s.ow();
  const std::int64_t out_padded = (s.o + kGradTile - 1) / kGradTile * kGradTile;
  const std::int64_t x_step = s.c * g.plane, g_step = out_padded * g.padded;
  const std::int64_t block = images_per_block(x_step + g_step, sizeof(T));
  sum_over_images(s.n, s.o * s.c * taps, dweight, [&](std::int64_t b0, std::int64_t b1, T* sums) {
    simd::Buffer<T> xp(block * x_step), gg(block * g_step);
    std::vector<Vec<T>> acc(static_cast<std::size_t>(out_padded * s.c * taps), Vec<T>{});
    for (std::int64_t first = b0; first < b1; first += block) {
      const std::int64_t images = std::min(block, b1 - first);
      for (std::int64_t b = 0; b < images; ++b) {
        const std::int64_t img = first + b;
        pad_image(s, g, x + img * s.c * s.h * s.w, xp.data() + b * x_step);
        for (std::int64_t o = 0; o < s.o; ++o)
          for (std::int64_t r = 0; r < oh; ++r)
            simd::copy_short(gy + ((img * s.o + o) * oh + r) * ow, ow, gg.data() + b * g_step + o * g.padded + r * g.pitch);
      }
      for (std::int64_t o = 0; o < out_padded; o += kGradTile)
        for (std::int64_t c = 0; c < s.c; ++c)
          for (std::int64_t ki = 0; ki < s.kh; ++ki)
            for (std::int64_t kj = 0; kj < s.kw; kj += kMaxTaps)
              weight_row(static_cast<int>(std::min<std::int64_t>(kMaxTaps, s.kw - kj)), gg.data() + o * g.padded,
                         g.padded, g_step, xp.data() + c * g.plane + ki * g.pitch + kj, x_step, images, g.vecs,
                         acc.data() + ((o * s.c + c) * s.kh + ki) * s.kw + kj, s.c * taps);
    }
    for (std::int64_t e = 0; e < s.o * s.c * taps; ++e) sums[e] = simd::hsum<T>(acc[static_cast<std::size_t>(e)]);
  });
}

}  // namespace

template <class T>
void direct_conv_weight_grad(const DirectConv& s, const T* x, const T* gy, T* dweight) {
  if (by_channel<T>(s)) weight_grad_by_channel(s, x, gy, dweight);
  else weight_grad_by_position(s, x, gy, dweight);
}

template void direct_conv_forward(const DirectConv&, const float*, const float*, const float*, float*);
template void direct_conv_forward(const DirectConv&, const double*, const double*, const double*, double*);
template void direct_conv_input_grad(const DirectConv&, const float*, const float*, float*);
template void direct_conv_input_grad(const DirectConv&, const double*, const double*, double*);
template void direct_conv_weight_grad(const DirectConv&, const float*, const float*, float*);
template void direct_conv_weight_grad(const DirectConv&, const double*, const double*, double*);

}  // namespace zg::kernel
