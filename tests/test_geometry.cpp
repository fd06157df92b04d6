// The atlas's geometry on hand-made features whose angles, arcs and margins are known.
#include <gtest/gtest.h>

#include <cmath>
#include <numbers>

#include "tests/test_util.h"
#include "train/margin_geometry.h"

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
  EXPECT_NEAR(g.other_angles[0], 90, 1e-9);  // class 0's first feature to the weight at 90°
  ASSERT_EQ(g.arcs.size(), 4u);
  for (const ClassArc& a : g.arcs) EXPECT_NEAR(a.width_deg, 20, 1e-9) << a.cls;
  const ClassArc& wrapped = *std::find_if(g.arcs.begin(), g.arcs.end(), [](const ClassArc& a) { return a.cls == 2; });
  EXPECT_NEAR(wrapped.start_deg, 170, 1e-9);  // across ±180°
  EXPECT_NEAR(wrapped.end_deg, -170, 1e-9);
  EXPECT_NEAR(g.angular_margin, 70, 1e-9);
}

TEST(MarginGeometry, OverlappingNeighboursGiveANegativeMargin) {
  Features f;
  for (double off : {-20.0, 0.0, 20.0}) f.add(off, 0), f.add(30 + off, 1);
  FeatureGeometry g = feature_geometry(f.xy, f.labels, unit_weights({0, 30}), 2, 2, 1.0);
  EXPECT_NEAR(g.angular_margin, -10, 1e-9);  // [-20°, 20°] and [10°, 50°]
}

TEST(MarginGeometry, CoverageLeavesOutliersOut) {
  Features f;
  for (int k = 0; k < 100; ++k) f.add(-5 + 10.0 * k / 99, 0), f.add(180 - 5 + 10.0 * k / 99, 1);
  f.add(60, 0);
  FeatureGeometry robust = feature_geometry(f.xy, f.labels, unit_weights({0, 180}), 2, 2, 0.98);
  FeatureGeometry all = feature_geometry(f.xy, f.labels, unit_weights({0, 180}), 2, 2, 1.0);
  EXPECT_LE(robust.arcs[0].width_deg + robust.arcs[1].width_deg, 20 + 1e-9);
  EXPECT_NEAR(robust.angular_margin, 170, 0.5);
  EXPECT_NEAR(all.angular_margin, 175 - 60, 1e-9);  // the outlier stretches class 0 to 60°
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
}

}  // namespace
