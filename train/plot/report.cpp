#include "zoograd/train/plot/report.h"

#include <cstdio>
#include <filesystem>

#include "zoograd/core/io/serialize.h"
#include "zoograd/train/plot/html.h"
#include "zoograd/train/plot/plots.h"

namespace zg {

void write_file(const std::string& path, const std::string& text) { write_file_atomic(path, text); }

std::string confusion_text(const Confusion& confusion, const std::vector<std::string>& names) {
  std::string s = "true \\ predicted";
  for (std::size_t j = 0; j < confusion.size(); ++j) s += "," + (j < names.size() ? names[j] : std::to_string(j));
  s += "\n";
  for (std::size_t i = 0; i < confusion.size(); ++i) {
    s += i < names.size() ? names[i] : std::to_string(i);
    for (std::int64_t c : confusion[i]) s += "," + std::to_string(c);
    s += "\n";
  }
  return s;
}

std::vector<std::pair<std::string, Figure>> run_report_figures(const nlohmann::json& config, const nlohmann::json& metrics,
                                                               const Confusion& confusion,
                                                               const std::vector<std::string>& class_names) {
  // Loss and accuracy on separate axes: they have different units and ranges.
  const std::string loss_name = config.value("loss", std::string("loss"));
  const AxisSpec epochs{"training time (epochs)"};
  LineChart loss{.title = "loss", .x = epochs, .y = {"mean " + loss_name + " (per sample)"},
                 .series = {{"train", {}, {}}, {"test", {}, {}}}};
  LineChart acc{.title = "accuracy", .x = epochs, .y = {"accuracy (%)"}, .series = {{"train", {}, {}}, {"test", {}, {}}}};
  for (const auto& m : metrics) {
    const double e = m.at("epoch").get<double>();
    loss.series[0].x.push_back(e), loss.series[0].y.push_back(m.at("train_loss").get<double>());
    loss.series[1].x.push_back(e), loss.series[1].y.push_back(m.at("test_loss").get<double>());
    acc.series[0].x.push_back(e), acc.series[0].y.push_back(100 * m.at("train_accuracy").get<double>());
    acc.series[1].x.push_back(e), acc.series[1].y.push_back(100 * m.at("test_accuracy").get<double>());
  }
  std::vector<std::pair<std::string, Figure>> figures;
  figures.emplace_back("loss", line_chart(loss, 600, 420));
  figures.emplace_back("accuracy", line_chart(acc, 600, 420));
  figures.emplace_back("confusion", confusion_matrix(confusion, class_names, "confusion matrix (test set)"));
  return figures;
}

void write_run_report(const std::string& dir, const nlohmann::json& config, const nlohmann::json& metrics,
                      const Confusion& confusion, const std::vector<std::string>& class_names) {
  namespace fs = std::filesystem;
  write_file((fs::path(dir) / "config.json").string(), config.dump(2) + "\n");

  std::vector<std::string> columns = {"epoch",         "step",      "lr",      "train_loss",        "train_accuracy",
                                      "test_loss",     "test_accuracy", "seconds", "samples_per_second"};
  if (!metrics.empty() && metrics[0].contains("lambda")) columns.push_back("lambda");
  std::string csv, jsonl;
  for (const std::string& c : columns) csv += (csv.empty() ? "" : ",") + c;
  csv += "\n";
  for (const auto& m : metrics) {
    std::string row;
    for (const std::string& c : columns) row += (row.empty() ? "" : ",") + m.at(c).dump();
    csv += row + "\n";
    jsonl += m.dump() + "\n";
  }
  write_file((fs::path(dir) / "metrics.csv").string(), csv);
  write_file((fs::path(dir) / "metrics.jsonl").string(), jsonl);
  for (const auto& [stem, figure] : run_report_figures(config, metrics, confusion, class_names)) save_figure(figure, dir, stem);
  write_file((fs::path(dir) / "confusion.csv").string(), confusion_text(confusion, class_names));

  std::string rows;
  for (const auto& m : metrics) {
    char buf[256];
    std::snprintf(buf, sizeof buf, "<tr><td>%lld</td><td>%.4g</td><td>%.4f</td><td>%.4f</td><td>%.4f</td><td>%.4f</td><td>%.1f</td></tr>\n",
                  static_cast<long long>(m.at("epoch").get<std::int64_t>()), m.at("lr").get<double>(),
                  m.at("train_loss").get<double>(), m.at("train_accuracy").get<double>(), m.at("test_loss").get<double>(),
                  m.at("test_accuracy").get<double>(), m.at("seconds").get<double>());
    rows += buf;
  }
  std::string html = R"(<!doctype html>
<html><head><meta charset="utf-8"><title>zoograd run</title>
<style>)" + page_style() + R"(pre{background:#f6f6f6;padding:1em;overflow-x:auto}</style></head><body>
<h1>zoograd run</h1>
<div class="row"><figure><img src="loss.png" alt="loss curve"><figcaption>)" + format_links("loss", kAllFormats) +
                     R"(</figcaption></figure>
<figure><img src="accuracy.png" alt="accuracy curve"><figcaption>)" + format_links("accuracy", kAllFormats) +
                     R"(</figcaption></figure></div>
<figure><img src="confusion.png" alt="confusion matrix"><figcaption>)" + format_links("confusion", kAllFormats) +
                     R"(</figcaption></figure>
<h2>Metrics</h2>
<table><tr><th>epoch</th><th>lr</th><th>train loss</th><th>train acc</th><th>test loss</th><th>test acc</th><th>seconds</th></tr>
)" + rows + R"(</table>
<h2>Settings</h2>
<pre>)" + xml_escape(config.dump(2)) + R"(</pre>
<p>Files: <a href="metrics.csv">metrics.csv</a>, <a href="metrics.jsonl">metrics.jsonl</a>,
<a href="confusion.csv">confusion.csv</a>, <a href="config.json">config.json</a>,
model.safetensors, checkpoint-&lt;epoch&gt;.safetensors (the two newest).</p>
)" + page_check_script() + "</body></html>\n";
  write_file((fs::path(dir) / "index.html").string(), html);
}

}  // namespace zg
