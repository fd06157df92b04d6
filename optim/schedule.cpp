#include "zoograd/optim/schedule.h"

#include <cmath>
#include <numbers>
#include <sstream>
#include <stdexcept>

namespace zg {

double Schedule::lr_at(double base_lr, std::int64_t epoch) const {
  double lr = base_lr;
  switch (kind) {
    case Kind::Constant: break;
    case Kind::Step: lr = base_lr * std::pow(gamma, static_cast<double>(epoch / step_size)); break;
    case Kind::MultiStep: {
      int passed = 0;
      for (std::int64_t m : milestones) passed += m <= epoch;
      lr = base_lr * std::pow(gamma, passed);
      break;
    }
    case Kind::Cosine: {
      // No clamp at t_max: PyTorch's closed form keeps following the cosine past T (back up to lr at 2T).
      double t = static_cast<double>(epoch) / static_cast<double>(t_max);
      lr = eta_min + (base_lr - eta_min) * (1 + std::cos(std::numbers::pi * t)) / 2;
      break;
    }
  }
  if (epoch < warmup_epochs)
    lr *= warmup_start_factor + (1 - warmup_start_factor) * static_cast<double>(epoch) / static_cast<double>(warmup_epochs);
  return lr;
}

namespace {
[[noreturn]] void bad(const std::string& text, const std::string& why) {
  throw std::invalid_argument("schedule \"" + text + "\": " + why +
                              "; expected constant, step:S[:GAMMA], multistep:M1,M2,...[:GAMMA] or cosine:T[:ETA_MIN], "
                              "optionally followed by +warmup:W");
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> parts;
  std::stringstream in(s);
  for (std::string p; std::getline(in, p, sep);) parts.push_back(p);
  if (!s.empty() && s.back() == sep) parts.emplace_back();
  return parts;
}

double number(const std::string& text, const std::string& s) {
  try {
    std::size_t used = 0;
    double v = std::stod(s, &used);
    if (used == s.size() && std::isfinite(v)) return v;
  } catch (const std::exception&) {
  }
  bad(text, "\"" + s + "\" is not a number");
}

std::int64_t positive_int(const std::string& text, const std::string& s) {
  double v = number(text, s);
  // The upper bound keeps the cast below defined (1e300 would overflow std::int64_t).
  if (v < 1 || v != std::floor(v) || v > 1e15) bad(text, "\"" + s + "\" is not a positive integer (at most 1e15)");
  return static_cast<std::int64_t>(v);
}
}  // namespace

Schedule Schedule::parse(const std::string& text) {
  Schedule s;
  std::string main = text;
  if (auto plus = text.find('+'); plus != std::string::npos) {
    std::vector<std::string> w = split(text.substr(plus + 1), ':');
    if (w.size() != 2 || w[0] != "warmup") bad(text, "the part after '+' must be warmup:W");
    s.warmup_epochs = positive_int(text, w[1]);
    main = text.substr(0, plus);
  }
  std::vector<std::string> p = split(main, ':');
  if (p.empty()) bad(text, "empty");
  if (p[0] == "constant" && p.size() == 1) {
    s.kind = Kind::Constant;
  } else if (p[0] == "step" && (p.size() == 2 || p.size() == 3)) {
    s.kind = Kind::Step;
    s.step_size = positive_int(text, p[1]);
    if (p.size() == 3) s.gamma = number(text, p[2]);
  } else if (p[0] == "multistep" && (p.size() == 2 || p.size() == 3)) {
    s.kind = Kind::MultiStep;
    for (const std::string& m : split(p[1], ',')) s.milestones.push_back(positive_int(text, m));
    if (s.milestones.empty()) bad(text, "multistep needs at least one milestone");
    if (p.size() == 3) s.gamma = number(text, p[2]);
  } else if (p[0] == "cosine" && (p.size() == 2 || p.size() == 3)) {
    s.kind = Kind::Cosine;
    s.t_max = positive_int(text, p[1]);
    if (p.size() == 3) s.eta_min = number(text, p[2]);
  } else {
    bad(text, "unknown form");
  }
  return s;
}

std::string Schedule::str() const {
  std::ostringstream o;
  o.precision(17);
  switch (kind) {
    case Kind::Constant: o << "constant"; break;
    case Kind::Step: o << "step:" << step_size << ":" << gamma; break;
    case Kind::MultiStep:
      o << "multistep:";
      for (std::size_t i = 0; i < milestones.size(); ++i) o << (i ? "," : "") << milestones[i];
      o << ":" << gamma;
      break;
    case Kind::Cosine: o << "cosine:" << t_max << ":" << eta_min; break;
  }
  if (warmup_epochs > 0) o << "+warmup:" << warmup_epochs;
  return o.str();
}

}  // namespace zg
