#pragma once
// The files of a run folder besides the checkpoint: config.json, metrics.csv, metrics.jsonl,
// loss, accuracy and confusion figures (each as .svg, .png and .pdf), confusion.csv and
// index.html, which shows them with no server.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "zoograd/train/plot/figure.h"

namespace zg {

using Confusion = std::vector<std::vector<std::int64_t>>;

// The run's figures by file stem: loss and accuracy against the epoch (separate axes), and the
// confusion matrix.
std::vector<std::pair<std::string, Figure>> run_report_figures(const nlohmann::json& config, const nlohmann::json& metrics,
                                                               const Confusion& confusion,
                                                               const std::vector<std::string>& class_names);

// Each metrics entry is an object with epoch, step, lr, train_loss, train_accuracy, test_loss,
// test_accuracy, seconds and samples_per_second.
void write_run_report(const std::string& dir, const nlohmann::json& config, const nlohmann::json& metrics,
                      const Confusion& confusion, const std::vector<std::string>& class_names);

// write_file_atomic (core/io/serialize.h): synced and renamed into place; a failure names the file and
// the OS's reason and leaves no temporary file.
void write_file(const std::string& path, const std::string& text);

std::string confusion_text(const Confusion& confusion, const std::vector<std::string>& class_names);

}  // namespace zg
