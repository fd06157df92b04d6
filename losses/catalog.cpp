#include "losses/catalog.h"

#include <sstream>
#include <stdexcept>

namespace zg {

const std::vector<LossSpec>& loss_catalog() {
  static const std::vector<LossSpec> catalog = [] {
    std::vector<LossSpec> all;
    for (auto family :
         {regression_losses, classification_losses, hinge_losses, metric_losses, unified_losses, angular_losses}) {
      for (LossSpec& spec : family()) {
        spec.call = [name = spec.name, declared = spec.params, call = std::move(spec.call)](
                        const std::vector<Tensor>& in, const LossParams& given, Reduction r) {
          return call(in, with_defaults(name, declared, given), r);
        };
        all.push_back(std::move(spec));
      }
    }
    return all;
  }();
  return catalog;
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

LossParams with_defaults(const std::string& loss, const std::vector<LossParam>& declared, const LossParams& given) {
  LossParams values;
  for (const LossParam& p : declared) values[p.name] = given.contains(p.name) ? given.at(p.name) : p.default_value;
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
  if (v != 0 && v != 1) {
    std::ostringstream text;
    text << loss << ": " << name << " is a switch, 0 or 1, got " << v;
    throw std::invalid_argument(text.str());
  }
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
