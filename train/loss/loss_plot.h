#pragma once
// `zoograd loss plot`: the teaching pictures of the loss zoo, each drawn once and written as SVG,
// PNG and PDF, with an index.html that shows them. The numbers come from train/loss/loss_curves.h.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "zoograd/train/plot/figure.h"

namespace zg {

// A picture of `loss plot`: its name (the file stem, for --only and --set) and its settings with
// their defaults (--set NAME.key=value).
struct LossFigureInfo {
  std::string name;
  std::string heading;
  std::map<std::string, double> settings;
};

// Every picture, in the order of the page.
const std::vector<LossFigureInfo>& loss_figures();

struct LossPlotOptions {
  std::vector<std::string> only{};                   // figure names; empty: every figure
  std::vector<ImageFormat> formats = kAllFormats;
  std::vector<std::string> set{};                    // "FIGURE.key=value"
  std::vector<std::int64_t> classes = {10, 100};     // NormFace's bound, one curve pair per C
};

// The settings of every figure with --set applied; throws std::invalid_argument naming an
// unknown figure or key, a malformed setting or a class count outside 2..100000, before anything
// is drawn.
std::map<std::string, std::map<std::string, double>> resolved_loss_settings(const LossPlotOptions& options);

// Writes the chosen pictures in the chosen formats and an index.html showing them into dir
// (created if missing); returns the file names written, index.html last.
std::vector<std::string> write_loss_plots(const std::string& dir, const LossPlotOptions& options = {});

}  // namespace zg
