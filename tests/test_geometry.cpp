// The atlas's geometry on hand-made features whose angles, arcs and margins are known.
#include <gtest/gtest.h>

#include <cmath>
#include <numbers>

#include "zoograd/tests/test_util.h"
#include "zoograd/train/atlas/margin_geometry.h"

namespace {

using namespace zg;
using zg_tests::error_of;

constexpr double kRad = std::numbers::pi / 180;

struct Features {
  std::vector<double> xy;
  std::vector<std::int64_t> labels;
  void add(double deg, std::int64_t cls, double norm = 1) {
    xy.push_back(norm * std::cos(deg * kRad));
    xy.push_back(norm * std::sin(deg * kRad));
    labels.push_back(cls);
  }
};

std::vector<double> unit_weights(const std::vector<double>& degrees) {
  std::vector<double> w;
  for (double d : degrees) w.push_back(std::cos(d * kRad)), w.push_back(std::sin(d * kRad));
  return w;
}

// Four classes at 0°, 90°, 180°, 270°, each with features at its weight ±0°, ±5°, ±10°.
TEST(MarginGeometry, FourClassesWithKnownAnglesArcsAndMargin) {
  Features f;
  for (std::int64_t c = 0; c < 4; ++c)
    for (double off : {0.0, -5.0, 5.0, -10.0, 10.0}) f.add(90.0 * static_cast<double>(c) + off, c, 2.0);
  FeatureGeometry g = feature_geometry(f.xy, f.labels, unit_weights({0, 90, 180, 270}), 4, 2, 1.0);
  ASSERT_EQ(g.own_angle.size(), 20u);
  EXPECT_NEAR(g.own_angle[3], 10, 1e-9);
  EXPECT_NEAR(g.mean_own_angle, 6, 1e-9);   // (0 + 5 + 5 + 10 + 10) / 5
  EXPECT_NEAR(g.p95_own_angle, 10, 1e-9);   // the 19th smallest of 20
  EXPECT_NEAR(g.min_weight_angle, 90, 1e-9);
  EXPECT_NEAR(g.mean_feature_norm, 2, 1e-12);
  ASSERT_EQ(g.other_angles.size(), 60u);
  EXPECT_NEAR(g.other_angles[0], 90, 1e-9);  // class 0's feature at 0° to the weights at 90°, 180°, 270°
  EXPECT_NEAR(g.other_angles[1], 180, 1e-9);
  EXPECT_NEAR(g.other_angles[2], 90, 1e-9);
  ASSERT_EQ(g.arcs.size(), 4u);
  // Counter-clockwise around the circle; class 2's centre sits on ±180°, so it may come first or last.
  for (std::size_t k = 0; k < 4; ++k) EXPECT_EQ((g.arcs[(k + 1) % 4].cls - g.arcs[k].cls + 4) % 4, 1);
  for (const ClassArc& a : g.arcs) {
    EXPECT_EQ(a.count, 5);
    EXPECT_NEAR(a.width_deg, 20, 1e-9) << a.cls;
    if (a.cls == 2) {  // wraps across ±180°
      EXPECT_NEAR(a.start_deg, 170, 1e-9);
      EXPECT_NEAR(a.end_deg, -170, 1e-9);
      EXPECT_NEAR(std::abs(a.centre_deg), 180, 1e-9);
    } else {
      EXPECT_NEAR(a.start_deg, std::remainder(90.0 * static_cast<double>(a.cls), 360) - 10, 1e-9) << a.cls;
      EXPECT_NEAR(a.end_deg, a.start_deg + 20, 1e-9) << a.cls;
    }
  }
  EXPECT_NEAR(g.angular_margin, 70, 1e-9);
}

TEST(MarginGeometry, AnglesStayInTheDocumentedRange) {
  // atan2 puts (-1, +0) at +180°; the arc's start is documented in [-180, 180).
  FeatureGeometry g = feature_geometry({-1.0, 0.0, 1.0, 0.0}, {0, 1}, unit_weights({180, 0}), 2, 2);
  ASSERT_EQ(g.arcs.size(), 2u);
  EXPECT_GE(g.arcs[0].start_deg, -180);
  EXPECT_LT(g.arcs[0].start_deg, 180);
  EXPECT_NEAR(g.arcs[0].start_deg, -180, 1e-9);
  EXPECT_NEAR(g.angular_margin, 180, 1e-9);
}

TEST(MarginGeometry, OverlappingNeighboursGiveANegativeMargin) {
  Features f;
  for (double off : {-20.0, 0.0, 20.0}) f.add(off, 0), f.add(30 + off, 1);
  FeatureGeometry g = feature_geometry(f.xy, f.labels, unit_weights({0, 30}), 2, 2, 1.0);
  EXPECT_NEAR(g.angular_margin, -10, 1e-9);  // [-20°, 20°] and [10°, 50°]
}

TEST(MarginGeometry, ClassesWithTheSameCentreOverlapCompletely) {
  // Sorting by centre puts them 0° apart, not 360°: the overlap is the whole 40° arc.
  Features f;
  for (double off : {-20.0, 0.0, 20.0}) f.add(90 + off, 0), f.add(90 + off, 1);
  FeatureGeometry g = feature_geometry(f.xy, f.labels, unit_weights({90, 0}), 2, 2, 1.0);
  EXPECT_NEAR(g.angular_margin, -40, 1e-9);
}

TEST(MarginGeometry, ClassesWithoutSamplesAreLeftOut) {
  Features f;
  for (double off : {-10.0, 10.0}) f.add(off, 0), f.add(120 + off, 2);
  FeatureGeometry g = feature_geometry(f.xy, f.labels, unit_weights({0, 60, 120}), 3, 2, 1.0);
  ASSERT_EQ(g.arcs.size(), 2u);
  EXPECT_EQ(g.arcs[0].cls, 0);
  EXPECT_EQ(g.arcs[1].cls, 2);
  EXPECT_NEAR(g.angular_margin, 100, 1e-9);  // 10° to 110°; the other way round is 220°
  EXPECT_NEAR(g.min_weight_angle, 60, 1e-9);  // the weights still count
  EXPECT_EQ(g.other_angles.size(), 8u);
  Features one;
  one.add(0, 0);
  EXPECT_EQ(feature_geometry(one.xy, one.labels, unit_weights({0, 90}), 2, 2).angular_margin, 0);
}

TEST(MarginGeometry, CoverageLeavesOutliersOut) {
  // 100 features per class spread over ±5° of 0° and 180°, plus one outlier each.
  Features f;
  for (int k = 0; k < 100; ++k) f.add(-5 + 10.0 * k / 99, 0), f.add(180 - 5 + 10.0 * k / 99, 1);
  f.add(60, 0);
  f.add(-120, 1);
  FeatureGeometry robust = feature_geometry(f.xy, f.labels, unit_weights({0, 180}), 2, 2, 0.98);
  ASSERT_EQ(robust.arcs.size(), 2u);
  for (const ClassArc& a : robust.arcs) {
    double centre = a.cls == 0 ? 0 : 180;  // 99 of 101 features: inside the inliers' ±5°
    EXPECT_LE(std::abs(std::remainder(a.start_deg - centre, 360)), 5 + 1e-9) << a.cls;
    EXPECT_LE(std::abs(std::remainder(a.end_deg - centre, 360)), 5 + 1e-9) << a.cls;
  }
  EXPECT_GE(robust.angular_margin, 170 - 1e-9);
  FeatureGeometry all = feature_geometry(f.xy, f.labels, unit_weights({0, 180}), 2, 2, 1.0);
  ASSERT_EQ(all.arcs[0].cls, 1);  // [175°, -120°] centred at -152.5°, then class 0's [-5°, 60°]
  EXPECT_NEAR(all.arcs[0].start_deg, 175, 1e-9);
  EXPECT_NEAR(all.arcs[0].end_deg, -120, 1e-9);
  EXPECT_NEAR(all.arcs[1].start_deg, -5, 1e-9);
  EXPECT_NEAR(all.arcs[1].end_deg, 60, 1e-9);
  EXPECT_NEAR(all.angular_margin, 115, 1e-9);  // both gaps: 60° to 175° and -120° to -5°
}

// The papers' reading: the arcs holding 95% of each class, with each class's gap to its neighbour.
// Three classes of 19 features 1° apart over ±9° around 0°, 120° and 240°, and one more of class 0
// at 100°: 19 of its 20 (95%) stay in the 18° arc, all 20 (the 98% arc) reach 100°.
TEST(MarginGeometry, NinetyFivePercentArcsAndTheirGaps) {
  Features f;
  for (std::int64_t c = 0; c < 3; ++c)
    for (int k = -9; k <= 9; ++k) f.add(120.0 * static_cast<double>(c) + k, c);
  f.add(100, 0);
  const FeatureGeometry g = feature_geometry(f.xy, f.labels, unit_weights({0, 120, 240}), 3, 2);
  ASSERT_EQ(g.arcs95.size(), 3u);
  for (const ClassArc& a : g.arcs95) {
    EXPECT_NEAR(a.width_deg, 18, 1e-9) << a.cls;
    EXPECT_NEAR(a.gap_next_deg, 120 - 18, 1e-9) << a.cls;  // centres 120° apart, less two half-widths
  }
  EXPECT_NEAR(g.margin95, 102, 1e-9);
  EXPECT_NEAR(g.angular_margin, 120 - 9 - 100, 1e-9);  // the 98% arc of class 0 ends at 100°
  EXPECT_TRUE(g.caps95.empty());

  // On the sphere: caps in class order, each with its nearest neighbour.
  std::vector<double> xyz;
  std::vector<std::int64_t> labels;
  for (std::int64_t c = 0; c < 2; ++c)
    for (int k = 0; k < 20; ++k) {
      const double t = (c == 0 ? 0 : 90) * kRad, tilt = (k % 2 == 0 ? 5 : -5) * kRad;
      xyz.insert(xyz.end(), {std::cos(t) * std::cos(tilt), std::sin(t) * std::cos(tilt), std::sin(tilt)});
      labels.push_back(c);
    }
  const FeatureGeometry s = feature_geometry(xyz, labels, {1, 0, 0, 0, 1, 0}, 2, 3);
  ASSERT_EQ(s.caps95.size(), 2u);
  EXPECT_EQ(s.caps95[0].nearest, 1);
  EXPECT_NEAR(s.caps95[0].radius_deg, 5, 1e-9);
  EXPECT_NEAR(s.caps95[1].gap_deg, 80, 1e-9);
  EXPECT_NEAR(s.margin95, 80, 1e-9);
}

TEST(MarginGeometry, CoverageCountsTheNearestRankExactly) {
  // 0.56 · 25 is 14.000000000000002 in doubles; the arc holds 14 features (13° wide), not 15.
  Features f;
  for (int k = 0; k < 25; ++k) f.add(k, 0);
  f.add(180, 1);
  EXPECT_NEAR(feature_geometry(f.xy, f.labels, unit_weights({0, 180}), 2, 2, 0.56).arcs[1].width_deg, 13, 1e-9);
}

TEST(MarginGeometry, AZeroFeatureIsAtNinetyDegrees) {
  Features f;
  f.add(0, 0, 0.0);
  f.add(90, 1);
  FeatureGeometry g = feature_geometry(f.xy, f.labels, unit_weights({0, 90}), 2, 2);
  EXPECT_EQ(g.own_angle[0], 90);
  EXPECT_EQ(g.own_angle[1], 0);
  EXPECT_NEAR(g.mean_feature_norm, 0.5, 1e-12);
}

TEST(MarginGeometry, CapsOnTheSphere) {
  // Class 0 around +z, class 1 around +x, each a ring of features 10° from its centre.
  std::vector<double> xyz;
  std::vector<std::int64_t> labels;
  for (int k = 0; k < 8; ++k) {
    double a = k * std::numbers::pi / 4, s = std::sin(10 * kRad), c = std::cos(10 * kRad);
    xyz.insert(xyz.end(), {s * std::cos(a), s * std::sin(a), c});
    labels.push_back(0);
    xyz.insert(xyz.end(), {c, s * std::cos(a), s * std::sin(a)});
    labels.push_back(1);
  }
  FeatureGeometry g = feature_geometry(xyz, labels, {0, 0, 1, 1, 0, 0}, 2, 3, 1.0);
  EXPECT_TRUE(g.arcs.empty());
  EXPECT_NEAR(g.mean_own_angle, 10, 1e-9);
  EXPECT_NEAR(g.min_weight_angle, 90, 1e-9);
  EXPECT_NEAR(g.angular_margin, 90 - 10 - 10, 1e-9);
}

TEST(MarginGeometry, BadInputsNameTheValue) {
  Features f;
  f.add(0, 0);
  std::vector<double> w = unit_weights({0, 90});
  EXPECT_CONTAINS(error_of([&] { feature_geometry(f.xy, {2}, w, 2, 2); }), "label 2 at 0 is outside [0, 2)");
  EXPECT_CONTAINS(error_of([&] { feature_geometry(f.xy, {0, 1}, w, 2, 2); }), "2 feature values for 2 labels of dim 2");
  EXPECT_CONTAINS(error_of([&] { feature_geometry({1.0}, {0}, {1.0, 0.0}, 2, 1); }), "dim must be at least 2, got 1");
  EXPECT_CONTAINS(error_of([&] { feature_geometry(f.xy, f.labels, {1, 0, 0, 0}, 2, 2); }),
                  "the weight of class 1 is zero");
  EXPECT_CONTAINS(error_of([&] { feature_geometry(f.xy, f.labels, w, 2, 2, 0.0); }), "coverage must be in (0, 1]");
  EXPECT_CONTAINS(error_of([&] { feature_geometry({}, {}, w, 2, 2); }), "no features");
  EXPECT_CONTAINS(error_of([&] { feature_geometry({0.0, NAN}, {0}, w, 2, 2); }),
                  "feature value nan of sample 0 is not finite");
}

}  // namespace
