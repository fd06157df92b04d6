// Numerics of comparisons, reductions, reshape, permute, slicing and indexing.
#include "zoograd/tests/test_numerics.h"

TEST(Numerics, ComparisonValuesAndDtypes) {
  Tensor a = f64({1, 2, 3});
  Tensor b = f64({3, 2, 1});
  EXPECT_EQ(eq(a, b).to_vector(), (V{0, 1, 0}));
  EXPECT_EQ(ne(a, b).to_vector(), (V{1, 0, 1}));
  EXPECT_EQ(lt(a, b).to_vector(), (V{1, 0, 0}));
  EXPECT_EQ(le(a, b).to_vector(), (V{1, 1, 0}));
  EXPECT_EQ(gt(a, b).to_vector(), (V{0, 0, 1}));
  EXPECT_EQ(ge(a, b).to_vector(), (V{0, 1, 1}));
  EXPECT_EQ(gt(a, 1.5).to_vector(), (V{0, 1, 1}));
  EXPECT_EQ(eq(a, b).dtype(), DType::Float64);
  Tensor labels = i64({0, 2, 1});
  Tensor same = eq(labels, i64({0, 1, 1}));
  EXPECT_EQ(same.dtype(), DType::Float32);
  EXPECT_EQ(same.to_vector(), (V{1, 0, 1}));
  EXPECT_EQ(lt(labels, 2.0).to_vector(), (V{1, 0, 1}));
  EXPECT_EQ(isfinite(f64({1, kInf, -kInf, std::nan("")})).to_vector(), (V{1, 0, 0, 0}));
  Tensor x = f64({1, 2}).requires_grad_();
  EXPECT_FALSE(gt(x, 1.0).requires_grad());
}

// ---- reductions ----

TEST(Numerics, ArgmaxArgminValuesAndFirstIndexTies) {
  Tensor x = tensor({1, 3, 3, 2, 2, 0}, {2, 3});
  Tensor am = argmax(x, 1);
  EXPECT_EQ(am.dtype(), DType::Int64);
  EXPECT_EQ(am.shape(), (Shape{2}));
  EXPECT_EQ(am.to_vector(), (V{1, 0}));
  EXPECT_EQ(argmin(x, 1).to_vector(), (V{0, 2}));
  EXPECT_EQ(argmax(x, 0).to_vector(), (V{1, 0, 0}));
  EXPECT_EQ(argmin(x, -2).to_vector(), (V{0, 1, 1}));
  EXPECT_EQ(argmax(x, 1, {.keepdim = true}).shape(), (Shape{2, 1}));
  EXPECT_EQ(argmax(tensor({5, 5, 5, 5}), 0).item(), 0.0);
  EXPECT_EQ(argmin(tensor({-1, 4, -1}), 0).item(), 0.0);
}

TEST(Numerics, AmaxGradientSplitAmongTies) {
  Tensor x = f64({1, 3, 3, 2}).requires_grad_();
  Tensor m = max(x);
  EXPECT_EQ(m.item(), 3.0);
  m.backward();
  EXPECT_EQ(x.grad().to_vector(), (V{0, 0.5, 0.5, 0}));

  Tensor y = f64({4, 4, 4, 1, 2, 0}, {2, 3}).requires_grad_();
  Tensor r = amax(y, {1});
  EXPECT_EQ(r.to_vector(), (V{4, 2}));
  r.backward(f64({3, 1}));
  EXPECT_EQ(y.grad().to_vector(), (V{1, 1, 1, 0, 1, 0}));

  Tensor z = f64({-1, 5, -1}).requires_grad_();
  Tensor mn = min(z);
  EXPECT_EQ(mn.item(), -1.0);
  mn.backward();
  EXPECT_EQ(z.grad().to_vector(), (V{0.5, 0, 0.5}));
}

TEST(Numerics, ReductionsWithKeepdimShapesAndValues) {
  Tensor x = arange(24, DType::Float64);
  x = reshape(x, {2, 3, 4});
  EXPECT_EQ(sum(x, {1}, {.keepdim = true}).shape(), (Shape{2, 1, 4}));
  EXPECT_EQ(sum(x, {1}).shape(), (Shape{2, 4}));
  EXPECT_EQ(sum(x, {0, 2}).shape(), (Shape{3}));
  EXPECT_EQ(sum(x, {0, 2}, {.keepdim = true}).shape(), (Shape{1, 3, 1}));
  EXPECT_EQ(sum(x, {-1}).shape(), (Shape{2, 3}));
  EXPECT_EQ(sum(x).shape(), (Shape{}));
  EXPECT_EQ(sum(x).item(), 276.0);
  // element (a, b, c) holds 12a + 4b + c
  V expected(3, 0.0);
  for (int a = 0; a < 2; ++a)
    for (int b = 0; b < 3; ++b)
      for (int c = 0; c < 4; ++c) expected[b] += 12 * a + 4 * b + c;
  EXPECT_EQ(sum(x, {0, 2}).to_vector(), expected);
  EXPECT_EQ(mean(x, {2}).to_vector(), (V{1.5, 5.5, 9.5, 13.5, 17.5, 21.5}));
  EXPECT_EQ(mean(x).item(), 11.5);
  EXPECT_EQ(amax(x, {0, 1}, {.keepdim = true}).shape(), (Shape{1, 1, 4}));
  EXPECT_EQ(amax(x, {0, 1}).to_vector(), (V{20, 21, 22, 23}));
  EXPECT_EQ(amin(x, {2}, {.keepdim = true}).to_vector(), (V{0, 4, 8, 12, 16, 20}));
  EXPECT_CONTAINS(error_of([&] { (void)sum(x, {1, -2}); }), "twice");
  EXPECT_CONTAINS(error_of([&] { (void)sum(x, {3}); }), "out of range");
}

// Reductions merge adjacent dims of one kind and drop size-1 dims; every mix of reduced and kept
// runs (innermost reduced or kept) must match a direct sum, and a NaN must survive amax.
TEST(Numerics, ReductionsOverDimSubsetsMatchAReference) {
  Shape shape{3, 4, 1, 5, 2};
  Tensor x = reshape(sin(arange(120, DType::Float64)), shape);
  std::vector<double> xv = x.to_vector();
  for (const Dims& dims : std::vector<Dims>{{0, 2, 3}, {0, 3, 4}, {1, 4}, {4}, {0}, {2}, {0, 1, 2, 3, 4}, {1, 2, 3}}) {
    Shape keep = shape;
    for (std::int64_t d : dims) keep[d] = 1;
    std::vector<std::int64_t> st = contiguous_strides(keep);
    V expected(static_cast<std::size_t>(numel(keep)), 0.0);
    for (std::int64_t i = 0; i < numel(shape); ++i) {
      std::int64_t rest = i, o = 0;
      for (std::int64_t d = 4; d >= 0; --d) {
        std::int64_t k = rest % shape[d];
        rest /= shape[d];
        if (keep[d] != 1) o += k * st[d];
      }
      expected[static_cast<std::size_t>(o)] += xv[static_cast<std::size_t>(i)];
    }
    Tensor got = sum(x, dims, {.keepdim = true});
    ASSERT_EQ(got.shape(), keep);
    V g = got.to_vector();
    for (std::size_t i = 0; i < g.size(); ++i) EXPECT_NEAR(g[i], expected[i], 1e-12) << i;
    V g32 = sum(x.to(DType::Float32), dims, {.keepdim = true}).to_vector();
    for (std::size_t i = 0; i < g32.size(); ++i) EXPECT_NEAR(g32[i], expected[i], 1e-5) << i;
  }
  Tensor y = reshape(arange(24, DType::Float64), {2, 3, 4});
  y.data<double>()[13] = std::nan("");  // (1, 0, 1)
  V m = amax(y, {0, 2}).to_vector();
  EXPECT_TRUE(std::isnan(m[0]));
  EXPECT_EQ(m[1], 23 - 4);
  EXPECT_EQ(m[2], 23);
  EXPECT_EQ(amin(y, {1, 2}).to_vector()[0], 0);
  EXPECT_TRUE(std::isnan(amin(y, {1, 2}).to_vector()[1]));
}

TEST(Numerics, ScalarHasNoDimensionToName) {
  Tensor s = scalar(2.5, DType::Float64);
  EXPECT_EQ(sum(s).item(), 2.5);  // the empty list of dims: all of them, none here
  EXPECT_EQ(mean(s).item(), 2.5);
  EXPECT_EQ(amax(s, {}).item(), 2.5);
  EXPECT_EQ(sum(s).shape(), (Shape{}));
  EXPECT_EQ(unsqueeze(s, 0).shape(), (Shape{1}));
  EXPECT_EQ(unsqueeze(s, -1).shape(), (Shape{1}));
  // Naming dimension 0 or -1 of a scalar throws (it used to index the empty shape).
  EXPECT_CONTAINS(error_of([&] { (void)sum(s, {0}); }), "rank 0");
  EXPECT_CONTAINS(error_of([&] { (void)logsumexp(s, {-1}, {.keepdim = true}); }), "rank 0");
  EXPECT_CONTAINS(error_of([&] { (void)argmax(s, 0); }), "rank 0");
  EXPECT_CONTAINS(error_of([&] { (void)s.size(0); }), "rank 0");
  EXPECT_CONTAINS(error_of([&] { (void)slice(s, 0, 0, 1); }), "rank 0");
  EXPECT_CONTAINS(error_of([&] { (void)index_select(s, 0, i64({0})); }), "rank 0");
  EXPECT_CONTAINS(error_of([&] { (void)concat({s, s}); }), "rank 0");
}

TEST(Numerics, MeanGradientWithKeepdim) {
  Tensor x = f64({1, 2, 3, 4, 5, 6}, {2, 3}).requires_grad_();
  Tensor m = mean(x, {1}, {.keepdim = true});
  EXPECT_EQ(m.to_vector(), (V{2, 5}));
  m.backward(f64({3, 6}, {2, 1}));
  EXPECT_EQ(x.grad().to_vector(), (V{1, 1, 1, 2, 2, 2}));
}

// ---- shape ops ----

TEST(Numerics, ReshapeSharesStorage) {
  Tensor a = arange(6);
  Tensor b = reshape(a, {2, -1});
  EXPECT_EQ(b.shape(), (Shape{2, 3}));
  b.data<float>()[4] = 42.0f;
  EXPECT_EQ(a.data<float>()[4], 42.0f);
  a.data<float>()[0] = -7.0f;
  EXPECT_EQ(b.to_vector()[0], -7.0);
  EXPECT_EQ(a.impl().storage, b.impl().storage);
  EXPECT_CONTAINS(error_of([&] { (void)reshape(a, {4, -1}); }), "[4, -1]");
  EXPECT_CONTAINS(error_of([&] { (void)reshape(a, {-1, -1}); }), "-1");
}

// permute copies the trailing dims that keep their place as blocks and steps the others one
// element at a time; both must agree with the index definition y[i…] = x[i permuted].
TEST(Numerics, PermuteBlocksAndSingleElements) {
  Shape shape{2, 3, 4, 5};
  Tensor x = reshape(arange(120, DType::Float64), shape);
  for (const Dims& order : std::vector<Dims>{{1, 0, 2, 3}, {0, 2, 1, 3}, {3, 1, 2, 0}, {0, 1, 3, 2}, {0, 1, 2, 3}}) {
    Tensor y = permute(x, order);
    std::vector<std::int64_t> st = contiguous_strides(shape);
    V expected;
    for (std::int64_t a = 0; a < shape[order[0]]; ++a)
      for (std::int64_t b = 0; b < shape[order[1]]; ++b)
        for (std::int64_t c = 0; c < shape[order[2]]; ++c)
          for (std::int64_t d = 0; d < shape[order[3]]; ++d)
            expected.push_back(static_cast<double>(a * st[order[0]] + b * st[order[1]] + c * st[order[2]] +
                                                   d * st[order[3]]));
    EXPECT_EQ(y.to_vector(), expected);
    EXPECT_EQ(permute(y.to(DType::Int64), order).dtype(), DType::Int64);
  }
}

TEST(Numerics, SliceWithNegativeBoundsAndStep) {
  Tensor x = arange(10, DType::Float64);
  EXPECT_EQ(slice(x, 0, -7, -1, 2).to_vector(), (V{3, 5, 7}));
  EXPECT_EQ(slice(x, 0, 1, 100, 3).to_vector(), (V{1, 4, 7}));
  EXPECT_EQ(slice(x, 0, -100, 3).to_vector(), (V{0, 1, 2}));
  EXPECT_EQ(slice(x, 0, 8, 2).numel(), 0);
  EXPECT_EQ(slice(x, 0, -2, 10).to_vector(), (V{8, 9}));
  Tensor m = reshape(arange(12, DType::Float64), {3, 4});
  Tensor s = slice(m, -1, -3, 4, 2);  // columns 1 and 3
  EXPECT_EQ(s.shape(), (Shape{3, 2}));
  EXPECT_EQ(s.to_vector(), (V{1, 3, 5, 7, 9, 11}));
  EXPECT_EQ(slice(m, 0, 1, -1).to_vector(), (V{4, 5, 6, 7}));
  EXPECT_CONTAINS(error_of([&] { (void)slice(x, 0, 0, 5, 0); }), "step");
}

TEST(Numerics, SliceGradientScattersBack) {
  Tensor x = f64({0, 1, 2, 3, 4, 5, 6}).requires_grad_();
  slice(x, 0, -6, 7, 3).backward(f64({10, 20}));  // elements 1 and 4
  EXPECT_EQ(x.grad().to_vector(), (V{0, 10, 0, 0, 20, 0, 0}));
}

TEST(Numerics, OneHotValuesAndOutOfRangeLabel) {
  Tensor oh = one_hot(i64({2, 0}), 3);
  EXPECT_EQ(oh.shape(), (Shape{2, 3}));
  EXPECT_EQ(oh.dtype(), DType::Float32);
  EXPECT_EQ(oh.to_vector(), (V{0, 0, 1, 1, 0, 0}));
  std::string msg = error_of([] { (void)one_hot(i64({1, 5}), 3); });
  EXPECT_CONTAINS(msg, "5");
  EXPECT_CONTAINS(msg, "[0, 3)");
  msg = error_of([] { (void)one_hot(i64({-1}), 4); });
  EXPECT_CONTAINS(msg, "-1");
  EXPECT_CONTAINS(msg, "[0, 4)");
  EXPECT_CONTAINS(error_of([] { (void)one_hot(tensor({1}), 3); }), "int64");
}

TEST(Numerics, IndexSelectValuesAndOutOfRange) {
  Tensor x = reshape(arange(12, DType::Float64), {3, 4});
  EXPECT_EQ(index_select(x, 0, i64({2, 0, 2})).to_vector(), (V{8, 9, 10, 11, 0, 1, 2, 3, 8, 9, 10, 11}));
  EXPECT_EQ(index_select(x, 1, i64({3, 1})).to_vector(), (V{3, 1, 7, 5, 11, 9}));
  std::string msg = error_of([&] { (void)index_select(x, 0, i64({0, 3})); });
  EXPECT_CONTAINS(msg, "index 3");
  EXPECT_CONTAINS(msg, "[0, 3)");
  msg = error_of([&] { (void)index_select(x, 1, i64({-2})); });
  EXPECT_CONTAINS(msg, "index -2");
}

TEST(Numerics, GatherValuesAndOutOfRange) {
  Tensor x = f64({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor g = gather(x, 1, i64({2, 0, 1, 1}, {2, 2}));
  EXPECT_EQ(g.to_vector(), (V{3, 1, 5, 5}));
  EXPECT_EQ(gather(x, 0, i64({1, 0, 1}, {1, 3})).to_vector(), (V{4, 2, 6}));
  EXPECT_EQ(gather(x, 0, i64({1, 0, 1, 1}, {2, 2})).to_vector(), (V{4, 2, 4, 5}));  // index narrower than x
  std::string msg = error_of([&] { (void)gather(x, 1, i64({0, 7}, {1, 2})); });
  EXPECT_CONTAINS(msg, "index 7");
  EXPECT_CONTAINS(msg, "[0, 3)");
}

TEST(Numerics, GatherGradientAccumulatesRepeats) {
  Tensor x = f64({1, 2, 3, 4, 5, 6}, {2, 3}).requires_grad_();
  gather(x, 1, i64({2, 2, 0, 1}, {2, 2})).backward(f64({1, 2, 3, 4}, {2, 2}));
  EXPECT_EQ(x.grad().to_vector(), (V{0, 0, 3, 3, 4, 0}));
}
