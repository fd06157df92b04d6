#include "zoograd/train/atlas/margin_geometry.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <stdexcept>
#include <string>

namespace zg {

namespace {

constexpr double kDegrees = 180.0 / std::numbers::pi;

double norm(const double* a, std::int64_t dim) {
  double s = 0;
  for (std::int64_t k = 0; k < dim; ++k) s += a[k] * a[k];
  return std::sqrt(s);
}

// The wrapped angle in [-180, 180).
double wrap(double deg) {
  double w = std::fmod(deg + 180.0, 360.0);
  return (w < 0 ? w + 360.0 : w) - 180.0;
}

// The shortest arc of the circle holding `keep` of the polar angles (degrees, any order).
ClassArc shortest_arc(std::vector<double> angles, std::size_t keep) {
  std::sort(angles.begin(), angles.end());
  const std::size_t n = angles.size();
  ClassArc best;
  best.width_deg = std::numeric_limits<double>::infinity();
  for (std::size_t i = 0; i < n; ++i) {
    std::size_t j = i + keep - 1;  // the window's last angle, wrapping past 180°
    double end = j < n ? angles[j] : angles[j - n] + 360.0;
    if (end - angles[i] < best.width_deg) {
      best.width_deg = end - angles[i];
      best.start_deg = angles[i];
    }
  }
  best.end_deg = wrap(best.start_deg + best.width_deg);
  best.centre_deg = wrap(best.start_deg + best.width_deg / 2);
  best.count = static_cast<std::int64_t>(n);
  return best;
}

// ⌈q·n⌉ in [1, n]. The slack keeps a product that rounds just above an integer (0.56 · 25 is
// 14.000000000000002 in doubles) from taking one sample more.
std::size_t nearest_rank(double q, std::size_t n) {
  auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(n) - 1e-9));
  return std::clamp<std::size_t>(rank, 1, n);
}

double quantile_nearest_rank(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[nearest_rank(q, v.size()) - 1];
}

// Each class's shortest arc holding the coverage share of its features with a direction (2-D),
// in order around the circle, with the gap from each to the next counter-clockwise.
std::vector<ClassArc> circle_arcs(const std::vector<double>& features, const std::vector<std::vector<std::size_t>>& members,
                                  double coverage) {
  std::vector<ClassArc> arcs;
  for (std::size_t j = 0; j < members.size(); ++j) {
    if (members[j].empty()) continue;
    std::vector<double> polar;
    // atan2 gives 180° for (-1, +0); wrap keeps every start in [-180, 180) as documented.
    for (std::size_t i : members[j]) polar.push_back(wrap(std::atan2(features[i * 2 + 1], features[i * 2]) * kDegrees));
    ClassArc arc = shortest_arc(polar, nearest_rank(coverage, polar.size()));
    arc.cls = static_cast<std::int64_t>(j);
    arcs.push_back(arc);
  }
  std::sort(arcs.begin(), arcs.end(), [](const ClassArc& a, const ClassArc& b) { return a.centre_deg < b.centre_deg; });
  for (std::size_t k = 0; k < arcs.size() && arcs.size() > 1; ++k) {
    ClassArc& a = arcs[k];
    const ClassArc& b = arcs[(k + 1) % arcs.size()];
    // Measured through the two centres so overlaps come out negative. Only the last-to-first step
    // goes once around: two arcs with the same centre are 0° apart, not 360°.
    const double centres = b.centre_deg - a.centre_deg + (k + 1 == arcs.size() ? 360.0 : 0.0);
    a.gap_next_deg = centres - a.width_deg / 2 - b.width_deg / 2;
  }
  return arcs;
}

// d ≠ 2: each class as a cap around its mean direction whose radius is the coverage quantile of
// its features' angles to it, with the gap to the nearest other cap: the angle between the two
// mean directions less both radii.
std::vector<ClassCap> sphere_caps(const std::vector<double>& features, const std::vector<std::vector<std::size_t>>& members,
                                  std::int64_t dim, double coverage) {
  const auto d = static_cast<std::size_t>(dim);
  std::vector<std::vector<double>> centre(members.size(), std::vector<double>(d, 0.0));
  std::vector<ClassCap> caps;
  for (std::size_t j = 0; j < members.size(); ++j) {
    if (members[j].empty()) continue;
    for (std::size_t i : members[j]) {
      const double len = norm(&features[i * d], dim);
      for (std::size_t k = 0; k < d; ++k) centre[j][k] += features[i * d + k] / len;
    }
    std::vector<double> spread;
    for (std::size_t i : members[j]) spread.push_back(angle_between(&features[i * d], centre[j].data(), dim));
    caps.push_back({static_cast<std::int64_t>(j), quantile_nearest_rank(spread, coverage), -1, 0});
  }
  for (ClassCap& a : caps)
    for (const ClassCap& b : caps) {
      if (a.cls == b.cls) continue;
      const double gap = angle_between(centre[static_cast<std::size_t>(a.cls)].data(),
                                       centre[static_cast<std::size_t>(b.cls)].data(), dim) -
                         a.radius_deg - b.radius_deg;
      if (a.nearest < 0 || gap < a.gap_deg) a.nearest = b.cls, a.gap_deg = gap;
    }
  return caps;
}

// The smallest gap between neighbours; 0 when fewer than two classes have a feature with a
// direction: there is no gap to measure.
double smallest_gap(const std::vector<ClassArc>& arcs) {
  if (arcs.size() < 2) return 0;
  double gap = std::numeric_limits<double>::infinity();
  for (const ClassArc& a : arcs) gap = std::min(gap, a.gap_next_deg);
  return gap;
}

double smallest_gap(const std::vector<ClassCap>& caps) {
  if (caps.size() < 2) return 0;
  double gap = std::numeric_limits<double>::infinity();
  for (const ClassCap& c : caps) gap = std::min(gap, c.gap_deg);
  return gap;
}

}  // namespace

double angle_between(const double* a, const double* b, std::int64_t dim) {
  double na = norm(a, dim), nb = norm(b, dim);
  if (na == 0 || nb == 0) return 90.0;
  double dot = 0;
  for (std::int64_t k = 0; k < dim; ++k) dot += a[k] * b[k];
  return std::acos(std::clamp(dot / (na * nb), -1.0, 1.0)) * kDegrees;
}

FeatureGeometry feature_geometry(const std::vector<double>& features, const std::vector<std::int64_t>& labels,
                                 const std::vector<double>& weights, std::int64_t classes, std::int64_t dim,
                                 double coverage) {
  auto fail = [](const std::string& what) { throw std::invalid_argument("feature_geometry: " + what); };
  if (dim < 2) fail("dim must be at least 2, got " + std::to_string(dim));
  if (classes < 2) fail("needs at least 2 classes, got " + std::to_string(classes));
  const auto d = static_cast<std::size_t>(dim), c = static_cast<std::size_t>(classes), n = labels.size();
  if (n == 0) fail("no features");
  if (features.size() != n * d)
    fail(std::to_string(features.size()) + " feature values for " + std::to_string(n) + " labels of dim " +
         std::to_string(dim));
  if (weights.size() != c * d)
    fail(std::to_string(weights.size()) + " weight values for " + std::to_string(classes) + " classes of dim " +
         std::to_string(dim));
  if (!(coverage > 0 && coverage <= 1)) fail("coverage must be in (0, 1], got " + std::to_string(coverage));
  for (std::size_t j = 0; j < c; ++j) {
    double w = norm(&weights[j * d], dim);
    if (!std::isfinite(w)) fail("the weight of class " + std::to_string(j) + " is not finite");
    if (w == 0) fail("the weight of class " + std::to_string(j) + " is zero");
  }
  for (std::size_t i = 0; i < features.size(); ++i)
    if (!std::isfinite(features[i]))
      fail("feature value " + std::to_string(features[i]) + " of sample " + std::to_string(i / d) + " is not finite");
  for (std::size_t i = 0; i < n; ++i)
    if (labels[i] < 0 || labels[i] >= classes)
      fail("label " + std::to_string(labels[i]) + " at " + std::to_string(i) + " is outside [0, " +
           std::to_string(classes) + ")");

  FeatureGeometry g;
  double norm_sum = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double* x = &features[i * d];
    norm_sum += norm(x, dim);
    for (std::size_t j = 0; j < c; ++j) {
      double a = angle_between(x, &weights[j * d], dim);
      (static_cast<std::int64_t>(j) == labels[i] ? g.own_angle : g.other_angles).push_back(a);
    }
  }
  g.mean_feature_norm = norm_sum / static_cast<double>(n);
  double own_sum = 0;
  for (double a : g.own_angle) own_sum += a;
  g.mean_own_angle = own_sum / static_cast<double>(n);
  g.p95_own_angle = quantile_nearest_rank(g.own_angle, 0.95);
  g.min_weight_angle = 180;
  for (std::size_t j = 0; j < c; ++j)
    for (std::size_t k = j + 1; k < c; ++k)
      g.min_weight_angle = std::min(g.min_weight_angle, angle_between(&weights[j * d], &weights[k * d], dim));

  // Each class's features with a direction, grouped.
  std::vector<std::vector<std::size_t>> members(c);
  for (std::size_t i = 0; i < n; ++i)
    if (norm(&features[i * d], dim) > 0) members[static_cast<std::size_t>(labels[i])].push_back(i);

  if (dim == 2) {
    g.arcs = circle_arcs(features, members, coverage);
    g.arcs95 = circle_arcs(features, members, 0.95);
    g.angular_margin = smallest_gap(g.arcs);
    g.margin95 = smallest_gap(g.arcs95);
    return g;
  }
  std::vector<ClassCap> caps = sphere_caps(features, members, dim, coverage);
  g.caps95 = sphere_caps(features, members, dim, 0.95);
  g.angular_margin = smallest_gap(caps);
  g.margin95 = smallest_gap(g.caps95);
  return g;
}

}  // namespace zg
