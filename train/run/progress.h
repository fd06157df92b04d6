#pragma once
// Training progress on stderr: a line redrawn in place when stderr is a terminal (samples/s,
// loss, accuracy, ETA); nothing in between epochs otherwise.
#include <chrono>
#include <cstdint>
#include <string>

namespace zg {

class Progress {
 public:
  Progress(std::int64_t epoch, std::int64_t epochs, std::int64_t total_samples, bool enabled);
  void update(std::int64_t samples_done, double mean_loss, double accuracy);
  void finish();  // clears the line

 private:
  std::int64_t epoch_, epochs_, total_;
  bool live_;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

std::string format_duration(double seconds);  // "1:05", "12:03:09"

}  // namespace zg
