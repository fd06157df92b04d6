#pragma once
// `zoograd loss curve`: a loss, its derivative and its second derivative along one input element,
// for any catalog row (including one added through "Add a loss"), as CSV or an SVG picture.
#include <cstdint>
#include <string>
#include <vector>

namespace zg {

struct LossCurveRequest {
  std::string name{};             // the catalog's loss
  std::string vary{};             // the element to sweep: INPUT[i,j,...], one index per dim (INPUT[] for 0-D)
  double from = -3, to = 3;       // its values, both ends included
  int points = 101;               // >= 2
  std::vector<std::string> set{};  // parameters, "key=value"
  std::string reduction = "mean";
  std::string format = "csv";     // csv | svg | png | pdf (a figure of three stacked charts)
  std::string inputs_file{};      // JSON as `loss eval` reads it; empty: the row's sample inputs
  std::uint64_t seed = 0;         // the sample's generator, when there is no inputs_file
};

// The sweep: x[k] from `from` to `to`, and at each the loss summed after the reduction, its
// derivative with respect to the element and its second derivative (the Hessian's diagonal entry),
// in float64 through autograd (double backward).
struct CurvePoints {
  std::string element;  // e.g. "input[0,1]"
  std::vector<double> x, loss, grad, hessian;
};
CurvePoints loss_curve_points(const LossCurveRequest& request);

// The sweep as CSV (a header, then x,loss,grad,hessian_diag per line) or as an SVG of three charts.
// A bad loss name, element, range or setting throws std::invalid_argument naming it.
std::string loss_curve(const LossCurveRequest& request);

}  // namespace zg
