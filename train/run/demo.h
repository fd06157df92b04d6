#pragma once
// `zoograd demo`: a small MLP trained on synthetic spirals with nothing but core ops. Its
// cross-entropy and SGD step are written out in demo.cpp on purpose, not taken from losses/ and
// optim/: the demo shows that the core alone trains a network.
#include <cstdint>

namespace zg {

struct DemoOptions {
  std::int64_t epochs = 100;
  std::int64_t hidden = 64;
  double lr = 0.05;  // peak of a cosine schedule
  double momentum = 0.9;
  std::uint64_t seed = 42;
};

// Trains, logs one line per epoch block, and returns the test accuracy in [0, 1].
double run_demo(const DemoOptions& options);

}  // namespace zg
