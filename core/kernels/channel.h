#pragma once
// Per-channel loops of batch normalization and PReLU, over a tensor viewed as (n, c, s): n
// images (or rows), c channels, s values per channel and image. Values only; core/batch_norm.cpp
// and core/elementwise.cpp make them ops. Sums are accumulated in double, channel by channel on
// one thread each, so that they do not depend on the thread count.
#include <cstdint>

namespace zg::kernel {

struct ChannelView {
  std::int64_t n, c, s;
};

// sum[c] = Σ (x - shift[c]), sum_sq[c] = Σ (x - shift[c])² over channel c. A shift near the
// channel's values (any one of them) keeps Σd² - (Σd)²/n free of cancellation.
template <class T>
void channel_moments(const ChannelView& v, const T* x, const T* shift, double* sum, double* sum_sq);
// sum_g[c] = Σ g, sum_gx[c] = Σ g·(x - shift[c]) over channel c.
template <class T>
void channel_dot(const ChannelView& v, const T* g, const T* x, const T* shift, double* sum_g, double* sum_gx);
// y = (x - shift[c])·a[c] + b[c]. Centred first, so that a channel far from zero relative to its
// spread keeps its digits (x·a + b, with b = -shift·a, would cancel them).
template <class T>
void channel_affine(const ChannelView& v, const T* x, const T* shift, const T* a, const T* b, T* y);
// out = g·a[c] + (x - shift[c])·b[c] + k[c]
template <class T>
void channel_combine(const ChannelView& v, const T* g, const T* x, const T* shift, const T* a, const T* b, const T* k,
                     T* out);

// PReLU with slope[c] (slope[0] for every channel when shared): y = x > 0 ? x : slope·x.
template <class T>
void prelu_forward(const ChannelView& v, const T* x, const T* slope, bool shared, T* y);
// dx = x > 0 ? g : slope·g (dx may be null), and dslope[c] = Σ over x ≤ 0 of g·x (summed over all
// channels into dslope[0] when shared; dslope may be null).
template <class T>
void prelu_backward(const ChannelView& v, const T* g, const T* x, const T* slope, bool shared, T* dx, double* dslope);

}  // namespace zg::kernel
