#pragma once
// A small seeded margin atlas on a synthetic image set, shared by the atlas tests.
#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "zoograd/tests/test_util.h"
#include "zoograd/train/atlas/margins.h"
#include "zoograd/train/atlas/margins_report.h"

namespace zg_tests {

using zg::MarginsOptions;
using zg::MarginsResult;
namespace fs = std::filesystem;

// Two panels (softmax, CosFace) trained 10 epochs on the strokes, and their report.
struct SmallAtlas {
  zg_tests::TempDir dir;
  MarginsOptions options;
  MarginsResult result;
  std::vector<std::string> files;

  explicit SmallAtlas(std::int64_t dim) {
    options.data = stroke_images(dir.path(), 300, 150);
    options.losses = {"softmax", "cosface"};
    options.dim = dim;
    options.epochs = 10;
    options.batch_size = 32;
    options.lr = 0.1;  // 100 steps: with the atlas's hidden layer, 0.05 left CosFace at 0.67
    options.threads = 1;
    options.quiet = true;
    options.out = dir / "atlas";
    result = zg::run_margins(options);
    files = zg::write_margins_report(options.out, options, result);
  }
};

}  // namespace zg_tests
