#pragma once
// `zoograd loss facts`: the numbers a course quotes from the papers, each computed by the library
// (its losses, transforms and closed-form Hessians) and printed beside the closed form it follows
// from and the paper's own value and source. docs/derivations.md derives each.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace zg {

struct LossFact {
  std::string topic;                   // the group, e.g. "focal factor"
  std::string quantity;                // what was computed, with its settings
  double computed;                     // by the library
  std::optional<double> closed_form;   // the formula's value, where there is one
  std::optional<double> published;     // the paper's number, where it prints one
  double published_tolerance = 0;      // how far its rounding (or setting) may put it from `computed`
  std::string paper;                   // the paper's statement as printed, or "-"
  std::string source;                  // where it is printed
};

// The facts for C classes (>= 2) and features of dimension d (>= 2): the focal factor table,
// NormFace's lower bound, the largest feasible margins of CosFace, ArcFace and SphereFace, the
// Hessian conventions of XGBoost and LightGBM, and seed 000's identities. Bad C or d throws.
std::vector<LossFact> loss_facts(std::int64_t classes, std::int64_t dim);

// As aligned text, one table per topic, or as a JSON array.
std::string loss_facts_text(const std::vector<LossFact>& facts, bool json);

// The largest possible smallest angle between C unit vectors in d dimensions (radians), where it
// has a closed form or a known optimum: 2π/C for d = 2, the regular simplex's acos(-1/(C - 1)) for
// C <= d + 1, the Tammes problem's solutions for d = 3 and C = 5..14, 24; nullopt elsewhere.
// `how` names the construction.
std::optional<double> largest_smallest_angle(std::int64_t classes, std::int64_t dim, std::string* how = nullptr);

}  // namespace zg
