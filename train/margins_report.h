#pragma once
// The atlas's files: per panel, PNG pictures of the learned features (the feature plane with the
// head's decision regions and weight rays; the features on the unit circle with the angular
// boundaries, or on the sphere for 3-D features), the angle distributions and the training curves;
// one index.html with every panel and the table; summary.json with the table's numbers.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "train/margins.h"

namespace zg {

// The table's numbers and the settings, as written to summary.json.
nlohmann::json margins_summary(const MarginsOptions& options, const MarginsResult& result);

// Writes everything into dir (created if missing); returns the file names, index.html last.
std::vector<std::string> write_margins_report(const std::string& dir, const MarginsOptions& options,
                                              const MarginsResult& result);

}  // namespace zg
