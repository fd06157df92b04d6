// The thread pool: parts cover the range exactly once, errors come back to the caller, and a
// result does not depend on the thread count.
#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <string>
#include <vector>

#include "zoograd/core/generator.h"
#include "zoograd/core/ops.h"
#include "zoograd/core/kernels/parallel.h"

using namespace zg;

namespace {

// Sets the thread count for one test and puts the old one back.
class Threads {
 public:
  explicit Threads(int n) : old_(get_num_threads()) { set_num_threads(n); }
  ~Threads() { set_num_threads(old_); }

 private:
  int old_;
};

TEST(Parallel, PartsCoverTheRangeOnce) {
  Threads two(2);
  std::vector<std::atomic<int>> hits(1000);
  std::atomic<int> calls{0};
  parallel_for(1000, 100, [&](std::int64_t begin, std::int64_t end) {
    ++calls;
    for (std::int64_t i = begin; i < end; ++i) ++hits[static_cast<std::size_t>(i)];
  });
  EXPECT_EQ(calls.load(), 2);
  for (const auto& h : hits) ASSERT_EQ(h.load(), 1);
}

TEST(Parallel, SmallRangesAndNestedCallsRunOnTheCaller) {
  Threads two(2);
  int calls = 0;
  parallel_for(150, 100, [&](std::int64_t begin, std::int64_t end) {
    ++calls;
    EXPECT_EQ(begin, 0);
    EXPECT_EQ(end, 150);
  });
  EXPECT_EQ(calls, 1);
  std::atomic<int> inner{0};
  parallel_for(2, 1, [&](std::int64_t, std::int64_t) {
    parallel_for(1000, 1, [&](std::int64_t begin, std::int64_t end) {
      EXPECT_EQ(end - begin, 1000);  // not split again
      ++inner;
    });
  });
  EXPECT_EQ(inner.load(), 2);
}

TEST(Parallel, AnExceptionInAPartReachesTheCaller) {
  Threads two(2);
  try {
    parallel_for(1000, 10, [](std::int64_t begin, std::int64_t) {
      if (begin > 0) throw std::invalid_argument("part starting at " + std::to_string(begin));
    });
    FAIL() << "expected the second part's exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(std::string(e.what()), "part starting at 500");
  }
  int calls = 0;  // the pool still works afterwards
  parallel_for(1000, 10, [&](std::int64_t, std::int64_t) { ++calls; });
  EXPECT_GE(calls, 1);
}

TEST(Parallel, SetNumThreadsRejectsZero) {
  try {
    set_num_threads(0);
    FAIL() << "expected an error";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("got 0"), std::string::npos) << e.what();
  }
  EXPECT_GE(get_num_threads(), 1);
}

// A GEMM split into column or row strips over two threads gives the single-thread result; so do
// the pooled loops of a convolution step, forward and backward.
TEST(Parallel, SplitProductsMatchOneThread) {
  Generator gen(3);
  Tensor wide = randn({64, 300}, DType::Float32, gen), tall = randn({300, 700}, DType::Float32, gen);
  Tensor rows = randn({900, 300}, DType::Float32, gen), narrow = randn({300, 40}, DType::Float32, gen);
  Tensor x = randn({16, 3, 20, 20}, DType::Float32, gen).requires_grad_();
  Tensor w = randn({8, 3, 5, 5}, DType::Float32, gen).requires_grad_();
  auto run = [&] {
    Tensor pooled = max_pool2d(relu(conv2d(x, w)), 2);
    std::vector<Tensor> grads = grad({sum(pooled)}, {x, w});  // the convolution's backward in chunks
    return std::vector<Tensor>{mm(wide, tall), mm(rows, narrow), mm(tall, wide, {.transpose_a = true, .transpose_b = true}), pooled, grads[0], grads[1]};
  };
  std::vector<Tensor> one, two;
  {
    Threads t(1);
    one = run();
  }
  {
    Threads t(2);
    two = run();
  }
  for (std::size_t i = 0; i < one.size(); ++i) {
    ASSERT_EQ(one[i].shape(), two[i].shape());
    std::vector<double> a = one[i].to_vector(), b = two[i].to_vector();
    for (std::size_t j = 0; j < a.size(); ++j) ASSERT_NEAR(a[j], b[j], 1e-4 * (1 + std::abs(a[j]))) << "result " << i;
  }
}

}  // namespace
