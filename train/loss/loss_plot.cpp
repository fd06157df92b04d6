#include "zoograd/train/loss/loss_plot.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <set>
#include <stdexcept>
#include <system_error>

#include "zoograd/train/plot/html.h"
#include "zoograd/train/loss/loss_figures.h"
#include "zoograd/train/plot/report.h"

namespace zg {

namespace {

const FigureSettings kAngular = {{"sphereface_m", 4}, {"sphereface_lambda", 0}, {"cosface_m", 0.35},
                                 {"arcface_m", 0.5},  {"m1", 1},                {"m2", 0.3},
                                 {"m3", 0.2}};

FigureSettings with(FigureSettings base, const FigureSettings& more) {
  for (const auto& [k, v] : more) base[k] = v;
  return base;
}

std::string names_of(const std::map<std::string, double>& settings) {
  std::string s;
  for (const auto& [k, v] : settings) s += (s.empty() ? "" : ", ") + k;
  return s.empty() ? "none" : s;
}

std::string index_html(const std::vector<LossPicture>& pictures, const std::vector<ImageFormat>& formats) {
  auto has = [&](ImageFormat f) { return std::find(formats.begin(), formats.end(), f) != formats.end(); };
  std::string body;
  for (const LossPicture& p : pictures) {
    body += "<h2 id=\"" + p.name + "\">" + xml_escape(p.heading) + "</h2>\n<p>" + xml_escape(p.text) + "</p>\n<figure>";
    if (has(ImageFormat::png) || has(ImageFormat::svg))
      body += "<img src=\"" + p.name + (has(ImageFormat::png) ? ".png" : ".svg") + "\" alt=\"" + xml_escape(p.heading) +
              "\">";
    body += "<figcaption>" + p.name + ": " + format_links(p.name, formats) + "</figcaption></figure>\n";
  }
  return "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>zoograd loss zoo</title>\n<style>" + page_style() +
         "</style>\n</head><body>\n<h1>The loss zoo in pictures</h1>\n<p>Every curve is computed by zoograd's own "
         "losses and autograd in float64. Each picture is also written as SVG and PDF (for slides).</p>\n" +
         body + page_check_script() + "</body></html>\n";
}

}  // namespace

const std::vector<LossFigureInfo>& loss_figures() {
  static const std::vector<LossFigureInfo> figures = {
      {"regression_loss", "Regression losses", {{"delta", 1}, {"beta", 1}, {"tau", 0.9}, {"range", 3}}},
      {"regression_grad", "Their gradients", {{"delta", 1}, {"beta", 1}, {"tau", 0.9}, {"range", 3}}},
      {"focal_pt", "Focal loss", {{"gamma", 0}}},
      {"ce_vs_mse_grad", "Cross-entropy against MSE on the softmax", {{"range", 8}}},
      {"target_logit", "Target logits of the angular-margin losses", kAngular},
      {"target_logit_arcface", "The same with the ArcFace paper's settings",
       with(kAngular, {{"sphereface_lambda", 5}, {"theta_from", 20}, {"theta_to", 100}})},
      {"binary_boundaries", "Binary decision boundaries in the (θ1, θ2) plane",
       with(kAngular, {{"w1", 1.2}, {"w2", 0.8}, {"bias_gap", 0.1}})},
      {"cos_boundaries", "The same boundaries in the (cos θ1, cos θ2) plane",
       with(kAngular, {{"w1", 1.2}, {"w2", 0.8}, {"bias_gap", 0.1}})},
      {"normface_bound", "NormFace: why normalized losses need a scale", {{"s_max", 64}}},
      {"circle_boundary", "Circle loss: its boundary and its gradients", {{"m", 0.25}, {"gamma", 1}}},
  };
  return figures;
}

std::map<std::string, std::map<std::string, double>> resolved_loss_settings(const LossPlotOptions& o) {
  std::map<std::string, std::map<std::string, double>> settings;
  std::string known;
  for (const LossFigureInfo& f : loss_figures()) {
    settings[f.name] = f.settings;
    known += (known.empty() ? "" : ", ") + f.name;
  }
  for (const std::string& name : o.only)
    if (!settings.contains(name)) throw std::invalid_argument("--only: unknown figure \"" + name + "\"; choose from " + known);
  for (const std::string& kv : o.set) {
    const std::size_t eq = kv.find('='), dot = kv.substr(0, eq).find('.');
    if (eq == std::string::npos || dot == std::string::npos)
      throw std::invalid_argument("--set " + kv + ": expected FIGURE.key=value, e.g. focal_pt.gamma=3");
    const std::string figure = kv.substr(0, dot), key = kv.substr(dot + 1, eq - dot - 1), value = kv.substr(eq + 1);
    if (!settings.contains(figure))
      throw std::invalid_argument("--set " + kv + ": unknown figure \"" + figure + "\"; choose from " + known);
    if (!settings[figure].contains(key))
      throw std::invalid_argument("--set " + kv + ": " + figure + " has no setting \"" + key + "\"; its settings: " +
                                  names_of(settings[figure]));
    std::size_t used = 0;
    double v = 0;
    try {
      v = std::stod(value, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != value.size() || !std::isfinite(v))
      throw std::invalid_argument("--set " + kv + ": the value \"" + value + "\" is not a finite number");
    settings[figure][key] = v;
  }
  for (std::int64_t c : o.classes)
    if (c < 2 || c > 100000) throw std::invalid_argument("--classes: " + std::to_string(c) + " is outside 2..100000");
  if (o.classes.empty()) throw std::invalid_argument("--classes: give at least one class count");
  if (o.formats.empty()) throw std::invalid_argument("--format: give at least one of svg, png, pdf");
  const auto& n = settings["normface_bound"];
  if (!(n.at("s_max") > 1 && n.at("s_max") <= 1000))
    throw std::invalid_argument("normface_bound.s_max: " + std::to_string(n.at("s_max")) + " is outside (1, 1000]");
  const auto& a = settings["target_logit_arcface"];
  if (!(a.at("theta_from") >= 0 && a.at("theta_from") < a.at("theta_to") && a.at("theta_to") <= 180))
    throw std::invalid_argument("target_logit_arcface: theta_from < theta_to must lie in [0, 180] degrees");
  for (const char* fig : {"regression_loss", "regression_grad", "ce_vs_mse_grad"})
    if (!(settings[fig].at("range") > 0 && settings[fig].at("range") <= 1000))
      throw std::invalid_argument(std::string(fig) + ".range: must be in (0, 1000]");
  return settings;
}

std::vector<std::string> write_loss_plots(const std::string& dir, const LossPlotOptions& options) {
  namespace fs = std::filesystem;
  const auto settings = resolved_loss_settings(options);
  std::error_code error;
  fs::create_directories(dir, error);
  if (error) throw std::runtime_error(dir + ": cannot create the folder: " + error.message());
  const std::set<std::string> only(options.only.begin(), options.only.end());
  auto chosen = [&](const std::string& name) { return only.empty() || only.contains(name); };
  std::vector<LossPicture> pictures;
  auto add = [&](const std::string& name, LossPicture (*build)(const FigureSettings&)) {
    if (chosen(name)) pictures.push_back(build(settings.at(name)));
  };
  add("regression_loss", regression_loss_figure);
  add("regression_grad", regression_grad_figure);
  add("focal_pt", focal_figure);
  add("ce_vs_mse_grad", ce_vs_mse_figure);
  add("target_logit", target_logit_figure);
  add("target_logit_arcface", target_logit_arcface_figure);
  add("binary_boundaries", theta_boundaries_figure);
  add("cos_boundaries", cos_boundaries_figure);
  if (chosen("normface_bound")) pictures.push_back(normface_figure(settings.at("normface_bound"), options.classes));
  add("circle_boundary", circle_figure);
  std::vector<std::string> written;
  for (const LossPicture& p : pictures)
    for (const std::string& file : save_figure(p.figure, dir, p.name, options.formats)) written.push_back(file);
  write_file((fs::path(dir) / "index.html").string(), index_html(pictures, options.formats));
  written.push_back("index.html");
  return written;
}

}  // namespace zg
