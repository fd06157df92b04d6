#include "zoograd/losses/catalog.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <stdexcept>

namespace zg {

namespace {

// A row as the catalog holds it: its call takes every declared parameter (with_defaults), so a
// name it does not declare or a value out of range is refused before the loss runs.
LossSpec with_checked_params(LossSpec spec) {
  spec.call = [name = spec.name, declared = spec.params, call = std::move(spec.call)](
                  const std::vector<Tensor>& in, const LossParams& given, Reduction r) {
    return call(in, with_defaults(name, declared, given), r);
  };
  return spec;
}

// A deque, so that the rows' addresses (find_loss, Objective) survive a registration.
std::deque<LossSpec>& catalog_rows() {
  static std::deque<LossSpec> rows = [] {
    std::deque<LossSpec> all;
    for (auto family :
         {regression_losses, classification_losses, hinge_losses, metric_losses, unified_losses, angular_losses})
      for (LossSpec& spec : family()) all.push_back(with_checked_params(std::move(spec)));
    return all;
  }();
  return rows;
}

}  // namespace

const std::deque<LossSpec>& loss_catalog() { return catalog_rows(); }

void register_loss(LossSpec spec) {
  auto refuse = [&](const std::string& why) {
    throw std::invalid_argument("register_loss(\"" + spec.name + "\"): " + why);
  };
  if (spec.name.empty()) refuse("the loss needs a name");
  for (const LossSpec& s : catalog_rows())
    if (s.name == spec.name) refuse("the catalog already has a loss of that name; choose another");
  if (!spec.call || !spec.sample) refuse("the row needs both its call and its sample inputs");
  if (spec.inputs.empty() || spec.reductions.empty()) refuse("the row needs its inputs and its reductions");
  for (const LossParam& p : spec.params)
    if (!p.range.contains(p.default_value))
      refuse("parameter " + p.name + "'s default " + number_text(p.default_value) + " is outside its range, " +
             p.range.text());
  catalog_rows().push_back(with_checked_params(std::move(spec)));
}

std::vector<LossSpec> losses_of_family(const std::string& family) {
  std::vector<LossSpec> rows;
  for (const LossSpec& s : loss_catalog())
    if (s.family == family) rows.push_back(s);
  return rows;
}

const LossSpec& find_loss(const std::string& name) {
  std::string known;
  for (const LossSpec& s : loss_catalog()) {
    if (s.name == name) return s;
    known += (known.empty() ? "" : ", ") + s.name;
  }
  throw std::invalid_argument("unknown loss \"" + name + "\"; known losses: " + known);
}

bool ValueRange::contains(double v) const {
  if (!std::isfinite(v) || v < min || v > max || (open_min && v == min) || (open_max && v == max)) return false;
  return kind == Kind::Real || (v == std::floor(v) && (kind == Kind::Whole || v == 0 || v == 1));
}

std::string number_text(double v) {
  char buf[32];
  // Whole numbers in full ("1000000", not "1e+06"), up to where a double stops holding every integer.
  if (v == std::floor(v) && std::abs(v) <= 9007199254740992.0) std::snprintf(buf, sizeof buf, "%.0f", v);
  else  // the shortest %g form that reads back to v (std::to_chars of a double is missing in emscripten's libc++)
    for (int digits = 1; digits <= 17; ++digits)
      if (std::snprintf(buf, sizeof buf, "%.*g", digits, v); std::strtod(buf, nullptr) == v) break;
  return buf;
}

std::string ValueRange::text() const {
  if (kind == Kind::Boolean) return "0 or 1";
  const double huge = std::numeric_limits<double>::max();
  std::string what = kind == Kind::Whole ? "a whole number" : "a finite number";
  if (min == -huge && max == huge) return what;
  if (max == huge) return what + (open_min ? " > " : " >= ") + number_text(min);
  if (min == -huge) return what + (open_max ? " < " : " <= ") + number_text(max);
  return what + " in " + (open_min ? "(" : "[") + number_text(min) + ", " + number_text(max) + (open_max ? ")" : "]");
}

void check_value(const std::string& what, double value, const ValueRange& range, const std::string& as_given) {
  if (!range.contains(value))
    throw std::invalid_argument(what + ": expected " + range.text() + ", got " +
                                (as_given.empty() ? number_text(value) : as_given));
}

LossParams with_defaults(const std::string& loss, const std::vector<LossParam>& declared, const LossParams& given) {
  LossParams values;
  for (const LossParam& p : declared) {
    values[p.name] = given.contains(p.name) ? given.at(p.name) : p.default_value;
    check_value(loss + ": " + p.name, values[p.name], p.range);
  }
  for (const auto& [name, value] : given)
    if (!values.contains(name)) {
      std::string names;
      for (const LossParam& p : declared) names += (names.empty() ? "" : ", ") + p.name;
      throw std::invalid_argument(loss + ": unknown parameter \"" + name + "\"" +
                                  (names.empty() ? " (it takes none)" : "; its parameters: " + names));
    }
  return values;
}

bool switch_param(const std::string& loss, const LossParams& params, const std::string& name) {
  const double v = params.at(name);
  if (v != 0 && v != 1) throw std::invalid_argument(loss + ": " + name + " is a switch, 0 or 1, got " + number_text(v));
  return v == 1;
}

double param(const LossSpec& spec, const LossParams& params, const std::string& name) {
  for (const LossParam& p : spec.params)
    if (p.name == name) {
      auto it = params.find(name);
      return it == params.end() ? p.default_value : it->second;
    }
  std::string names;
  for (const LossParam& p : spec.params) names += (names.empty() ? "" : ", ") + p.name;
  throw std::invalid_argument(spec.name + ": unknown parameter \"" + name + "\"" +
                              (names.empty() ? " (it takes none)" : "; its parameters: " + names));
}

}  // namespace zg
