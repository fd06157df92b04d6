#pragma once
// The figures of the margin atlas: for a panel (or a moment of its training), the feature plane
// with the head's decision regions and weight rays, the features on the unit circle with each
// class's margin region, the angle histograms, the features on the unit sphere (3-D), and the
// training curves; and grids that put every panel's view side by side, at one scale and in one
// palette, for comparison.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "zoograd/train/atlas/margins.h"
#include "zoograd/train/plot/plots.h"

namespace zg {

// What a panel's views show, from a finished panel or a snapshot.
struct AtlasView {
  std::string title;  // the panel's title
  std::string note;   // a second line, e.g. "test accuracy 0.9225"
  std::int64_t dim = 2;
  std::vector<double> features;  // (N, dim)
  std::vector<std::int64_t> labels;
  std::vector<double> weights;  // (C, dim)
  CircleClasses circle;         // dim 2
  // The head's class at M points (M, dim) of the feature space.
  std::function<std::vector<std::int64_t>(const std::vector<double>& points)> classify;
};

AtlasView final_view(const PanelResult& r);
// A snapshot of r (the head's classes from the snapshot's weights and bias).
AtlasView snapshot_view(const PanelResult& r, const Snapshot& s);

// The views, drawn into a box; `legend` places the class legend.
void draw_feature_plane(Figure& f, Box box, const AtlasView& v, const std::vector<std::string>& class_names,
                        LegendPlace legend);
void draw_unit_circle(Figure& f, Box box, const AtlasView& v, const std::vector<std::string>& class_names,
                      LegendPlace legend);
void draw_unit_sphere(Figure& f, Box box, const AtlasView& v, const std::vector<std::string>& class_names,
                      double azimuth_deg);
void draw_angle_histogram(Figure& f, Box box, const std::string& title, const FeatureGeometry& g, LegendPlace legend);

// One panel's figures.
Figure feature_plane_figure(const AtlasView& v, const std::vector<std::string>& class_names);
Figure unit_circle_figure(const AtlasView& v, const std::vector<std::string>& class_names);
Figure unit_sphere_figure(const AtlasView& v, const std::vector<std::string>& class_names, double azimuth_deg = 30);
Figure angle_histogram_figure(const PanelResult& r);
// Loss, accuracy (and λ where it anneals) against the epoch, each on its own axes.
Figure training_curves_figure(const PanelResult& r);

// Every panel's view side by side, four to a row, under a title, above a shared legend.
enum class AtlasViewKind { plane, circle, sphere };
Figure comparison_figure(const std::string& title, const std::vector<AtlasView>& views, AtlasViewKind kind,
                         const std::vector<std::string>& class_names, double azimuth_deg = 30);
Figure angle_comparison_figure(const MarginsResult& result);
// 2-D: each panel's arcs holding 95% of each class (FeatureGeometry::arcs95), drawn on the circle
// in the class colours, with the gap to each next neighbour marked inside (solid: open, dashed:
// an overlap).
Figure arcs95_comparison_figure(const MarginsResult& result, const std::vector<std::string>& class_names);

// The legend entries of the circle views' shading.
std::vector<LegendEntry> circle_legend(const std::vector<std::string>& class_names);

}  // namespace zg
