#pragma once
// zoograd's own random number generator: xoshiro256** seeded through splitmix64, with
// hand-written uniform, normal and shuffle, so a seed gives the same numbers with every compiler
// and standard library. Its state can be saved and restored (checkpoints resume bit-identically).
#include <array>
#include <cstdint>
#include <vector>

namespace zg {

class Generator {
 public:
  using State = std::array<std::uint64_t, 4>;

  explicit Generator(std::uint64_t seed = 0x5eed) { manual_seed(seed); }
  void manual_seed(std::uint64_t seed);

  std::uint64_t next_u64();
  double uniform();                                   // [0, 1), 53 random bits
  float uniform_float();                              // [0, 1), 24 random bits
  double normal();                                    // standard normal (Box–Muller)
  std::uint64_t below(std::uint64_t n);               // uniform in [0, n), unbiased; n > 0
  template <class T> void shuffle(std::vector<T>& v) {
    for (std::size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[below(i)]);
  }

  State state() const { return s_; }
  void set_state(const State& s);                     // throws on the all-zero state

 private:
  State s_{};
};

// The generator used by random factories when none is given.
Generator& default_generator();
void manual_seed(std::uint64_t seed);

}  // namespace zg
