#include "train/report.h"

#include <cstdio>
#include <filesystem>
#include "core/serialize.h"
#include "train/svg.h"

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
  LineChart loss{"loss", "epoch", config.value("loss", std::string("loss")), {{"train", {}, {}}, {"test", {}, {}}}};
  LineChart acc{"accuracy", "epoch", "accuracy", {{"train", {}, {}}, {"test", {}, {}}}};
  for (const auto& m : metrics) {
    std::string row;
    for (const std::string& c : columns) row += (row.empty() ? "" : ",") + m.at(c).dump();
    csv += row + "\n";
    jsonl += m.dump() + "\n";
    double e = m.at("epoch").get<double>();
    loss.series[0].x.push_back(e), loss.series[0].y.push_back(m.at("train_loss").get<double>());
    loss.series[1].x.push_back(e), loss.series[1].y.push_back(m.at("test_loss").get<double>());
    acc.series[0].x.push_back(e), acc.series[0].y.push_back(m.at("train_accuracy").get<double>());
    acc.series[1].x.push_back(e), acc.series[1].y.push_back(m.at("test_accuracy").get<double>());
  }
  write_file((fs::path(dir) / "metrics.csv").string(), csv);
  write_file((fs::path(dir) / "metrics.jsonl").string(), jsonl);
  write_file((fs::path(dir) / "loss.svg").string(), line_chart_svg(loss));
  write_file((fs::path(dir) / "accuracy.svg").string(), line_chart_svg(acc));
  write_file((fs::path(dir) / "confusion.svg").string(),
             confusion_svg(confusion, class_names, "confusion matrix (test set)"));
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
<style>body{font-family:sans-serif;margin:2em;max-width:1200px}img{border:1px solid #ddd;margin:4px}
table{border-collapse:collapse}td,th{padding:3px 10px;border-bottom:1px solid #ddd;text-align:right}
pre{background:#f6f6f6;padding:1em}</style></head><body>
<h1>zoograd run</h1>
<p><img src="loss.svg" alt="loss curve"> <img src="accuracy.svg" alt="accuracy curve"></p>
<p><img src="confusion.svg" alt="confusion matrix"></p>
<h2>Metrics</h2>
<table><tr><th>epoch</th><th>lr</th><th>train loss</th><th>train acc</th><th>test loss</th><th>test acc</th><th>seconds</th></tr>
)" + rows + R"(</table>
<h2>Settings</h2>
<pre>)" + xml_escape(config.dump(2)) + R"(</pre>
<p>Files: <a href="metrics.csv">metrics.csv</a>, <a href="metrics.jsonl">metrics.jsonl</a>,
<a href="confusion.csv">confusion.csv</a>, <a href="config.json">config.json</a>,
model.safetensors, checkpoint-&lt;epoch&gt;.safetensors (the two newest).</p>
</body></html>
)";
  write_file((fs::path(dir) / "index.html").string(), html);
}

}  // namespace zg
