#pragma once
// The geometry of learned features for the margins atlas: angles between features and class
// weights, and the measured angular margin between classes. Plain numbers in, plain numbers out.
#include <cstdint>
#include <vector>

namespace zg {

// A class's angular extent in the plane: the shortest arc, going counter-clockwise from start to
// end (degrees in [-180, 180); end < start when it wraps), that holds ⌈coverage·count⌉ of its
// features, found over the sorted polar angles as the narrowest window of that many consecutive
// ones in circular order.
struct ClassArc {
  std::int64_t cls = 0;
  double start_deg = 0, end_deg = 0, centre_deg = 0, width_deg = 0;
  std::int64_t count = 0;  // the class's nonzero features, the ones with a direction
  // From this arc's end to the next arc's start counter-clockwise (the last arc's next is the
  // first); negative where the two overlap. The gap to the previous neighbour is the previous
  // arc's gap_next_deg.
  double gap_next_deg = 0;
};

// d ≠ 2: a class as a cap around its mean direction holding the coverage share of its features,
// and the gap to the nearest other class's cap (negative where they overlap).
struct ClassCap {
  std::int64_t cls = 0;
  double radius_deg = 0;
  std::int64_t nearest = -1;
  double gap_deg = 0;
};

struct FeatureGeometry {
  std::vector<double> own_angle;     // per sample: degrees between its feature and its class's weight
  std::vector<double> other_angles;  // per sample and other class: degrees to that class's weight
  double mean_own_angle = 0;
  double p95_own_angle = 0;          // nearest rank: the ⌈0.95·N⌉-th smallest own angle
  double min_weight_angle = 0;       // the smallest angle between two class weights
  // d = 2: order the classes' arcs by centre around the circle; the margin is the smallest gap
  // from the end of one arc to the start of the next counter-clockwise (the last to the first
  // included), negative when neighbours overlap.
  // d ≠ 2: each class is a cap around its mean direction whose radius is the coverage quantile of
  // its features' angles to it; the margin is the smallest (angle between two mean directions -
  // both radii).
  // 0 when fewer than two classes have a nonzero feature: there is no gap to measure.
  double angular_margin = 0;
  double mean_feature_norm = 0;
  std::vector<ClassArc> arcs;  // d = 2 only, in order around the circle
  // The same measure with arcs (caps) holding 95% of each class, the papers' pictures' reading:
  // each class's extent and its gaps to its neighbours; margin95 is the smallest gap.
  std::vector<ClassArc> arcs95;  // d = 2
  std::vector<ClassCap> caps95;  // d ≠ 2, in class order
  double margin95 = 0;
};

// features (N, dim) and weights (C, dim) row-major, labels in [0, C), dim >= 2. A zero feature
// is at 90° to every weight (cos θ = 0, as the losses' cos_theta gives it) and has no direction
// of its own, so it is left out of arcs and caps. Classes without samples are left out of the
// margin. Throws std::invalid_argument naming a bad size, label, coverage outside (0, 1],
// non-finite value or zero weight.
FeatureGeometry feature_geometry(const std::vector<double>& features, const std::vector<std::int64_t>& labels,
                                 const std::vector<double>& weights, std::int64_t classes, std::int64_t dim,
                                 double coverage = 0.98);

// Degrees between a and b (dim values each); 90 when either is zero.
double angle_between(const double* a, const double* b, std::int64_t dim);

}  // namespace zg
