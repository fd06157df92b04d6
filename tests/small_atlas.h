#pragma once
// A small seeded margin atlas on a synthetic image set, shared by the atlas tests.
#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/generator.h"
#include "tests/test_util.h"
#include "train/margins.h"
#include "train/margins_report.h"

namespace zg_tests {

using zg::Generator;
using zg::MarginsOptions;
using zg::MarginsResult;
namespace fs = std::filesystem;

inline void write_idx(const std::string& path, const std::vector<std::uint8_t>& data, const std::vector<std::uint32_t>& dims) {
  std::ofstream out(path, std::ios::binary);
  out.put(0), out.put(0), out.put(8), out.put(static_cast<char>(dims.size()));
  for (std::uint32_t d : dims)
    for (int shift : {24, 16, 8, 0}) out.put(static_cast<char>((d >> shift) & 0xff));
  out.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
}

// Three classes of noisy 16x16 strokes (a horizontal bar, a vertical bar, a diagonal) as IDX
// files; returns the idx: data spec.
inline std::string stroke_images(const fs::path& dir) {
  Generator gen(3);
  auto split = [&](const std::string& name, std::uint32_t n) {
    std::vector<std::uint8_t> images, labels;
    for (std::uint32_t k = 0; k < n; ++k) {
      auto cls = static_cast<std::uint8_t>(k % 3);
      int offset = static_cast<int>(gen.below(8)) + 4;
      for (int y = 0; y < 16; ++y)
        for (int x = 0; x < 16; ++x) {
          bool on = cls == 0 ? std::abs(y - offset) <= 1 : cls == 1 ? std::abs(x - offset) <= 1 : std::abs(x - y) <= 1;
          images.push_back(static_cast<std::uint8_t>(std::min(255.0, (on ? 200 : 0) + 50 * gen.uniform())));
        }
      labels.push_back(cls);
    }
    write_idx((dir / (name + "-images")).string(), images, {n, 16, 16});
    write_idx((dir / (name + "-labels")).string(), labels, {n});
    return (dir / (name + "-images")).string() + "," + (dir / (name + "-labels")).string();
  };
  std::string train = split("train", 300);
  return "idx:" + train + "," + split("test", 150);
}

// Two panels (softmax, CosFace) trained 10 epochs on the strokes, and their report.
struct SmallAtlas {
  zg_tests::TempDir dir;
  MarginsOptions options;
  MarginsResult result;
  std::vector<std::string> files;

  explicit SmallAtlas(std::int64_t dim) {
    options.data = stroke_images(dir.path());
    options.losses = {"softmax", "cosface"};
    options.dim = dim;
    options.epochs = 10;
    options.batch_size = 32;
    options.threads = 1;
    options.quiet = true;
    options.out = dir / "atlas";
    result = zg::run_margins(options);
    files = zg::write_margins_report(options.out, options, result);
  }
};

}  // namespace zg_tests
