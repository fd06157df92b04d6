#pragma once
// The atlas's files: the comparison figures (every panel's unit-circle view, feature plane, or
// unit sphere for 3-D features, and angle histograms, side by side), with PNG frames of them
// through training (and, in 3-D, turned about the vertical axis) for the page's player; per panel,
// the feature plane with the head's decision regions and weight rays, the unit circle with each
// class's margin region (or the sphere), the angle histograms and the training curves. Every
// figure is written as SVG, PNG and PDF (frames as PNG). One index.html shows them, with the table
// of measures; summary.json holds the table's numbers.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "zoograd/train/atlas/margins.h"

namespace zg {

// The table's numbers and the settings, as written to summary.json.
nlohmann::json margins_summary(const MarginsOptions& options, const MarginsResult& result);

// Writes everything into dir (created if missing); returns the file names, index.html last.
std::vector<std::string> write_margins_report(const std::string& dir, const MarginsOptions& options,
                                              const MarginsResult& result);

}  // namespace zg
