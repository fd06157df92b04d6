#include "zoograd/train/run/progress.h"

#include <unistd.h>

#include <cstdio>

namespace zg {

Progress::Progress(std::int64_t epoch, std::int64_t epochs, std::int64_t total_samples, bool enabled)
    : epoch_(epoch),
      epochs_(epochs),
      total_(total_samples),
      live_(enabled && ::isatty(STDERR_FILENO)),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

void Progress::update(std::int64_t done, double mean_loss, double accuracy) {
  if (!live_) return;
  auto now = std::chrono::steady_clock::now();
  if (done < total_ && now - last_draw_ < std::chrono::milliseconds(100)) return;  // keep the terminal calm
  last_draw_ = now;
  double seconds = std::chrono::duration<double>(now - start_).count();
  double rate = seconds > 0 ? static_cast<double>(done) / seconds : 0;
  double eta = rate > 0 ? static_cast<double>(total_ - done) / rate : 0;
  const int width = 24;
  int filled = total_ ? static_cast<int>(width * done / total_) : width;
  std::string bar(static_cast<std::size_t>(filled), '=');
  bar.resize(width, ' ');
  std::fprintf(stderr, "\r\033[Kepoch %lld/%lld [%s] %6.0f samples/s  loss %.4f  acc %.4f  ETA %s",
               static_cast<long long>(epoch_), static_cast<long long>(epochs_), bar.c_str(), rate, mean_loss, accuracy,
               format_duration(eta).c_str());
  std::fflush(stderr);
}

void Progress::finish() {
  if (live_) std::fprintf(stderr, "\r\033[K");
}

std::string format_duration(double seconds) {
  auto s = static_cast<long long>(seconds + 0.5);
  char buf[32];
  if (s >= 3600) std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", s / 3600, s / 60 % 60, s % 60);
  else std::snprintf(buf, sizeof buf, "%lld:%02lld", s / 60, s % 60);
  return buf;
}

}  // namespace zg
