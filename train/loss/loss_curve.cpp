#include "zoograd/train/loss/loss_curve.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <stdexcept>

#include "zoograd/core/ops.h"
#include "zoograd/losses/catalog.h"
#include "zoograd/train/loss/loss_tool.h"
#include "zoograd/train/plot/plots.h"
#include "zoograd/train/run/values.h"

namespace zg {

namespace {

struct Element {
  std::size_t input;  // the row's input
  std::int64_t flat;  // the element's position in it, row-major
};

// "NAME[i,j]" -> the input and position, checked against the row and the inputs' shapes.
Element parse_element(const std::string& vary, const LossSpec& spec, const std::vector<Tensor>& inputs) {
  std::string differentiable;
  for (const LossInput& in : spec.inputs)
    if (in.differentiable) differentiable += (differentiable.empty() ? "" : ", ") + in.name;
  const std::size_t open = vary.find('['), close = vary.rfind(']');
  if (open == std::string::npos || close == std::string::npos || close < open || close + 1 != vary.size())
    throw std::invalid_argument("--vary " + vary + ": expected INPUT[i,j,...], e.g. " + spec.inputs[0].name +
                                "[0,1]; " + spec.name + " has the differentiable inputs " + differentiable);
  const std::string name = vary.substr(0, open);
  std::size_t input = spec.inputs.size();
  for (std::size_t i = 0; i < spec.inputs.size(); ++i)
    if (spec.inputs[i].name == name) input = i;
  if (input == spec.inputs.size() || !spec.inputs[input].differentiable)
    throw std::invalid_argument("--vary " + vary + ": " + spec.name + " has no differentiable input \"" + name +
                                "\"; its differentiable inputs: " + differentiable);
  if (input >= inputs.size() || !inputs[input].defined())
    throw std::invalid_argument("--vary " + vary + ": the optional input " + name + " was not given");
  std::vector<std::int64_t> index;
  const std::string list = vary.substr(open + 1, close - open - 1);
  for (std::size_t at = 0; list.find_first_not_of(" ") != std::string::npos;) {
    std::size_t comma = list.find(',', at);
    std::string item = list.substr(at, comma == std::string::npos ? std::string::npos : comma - at);
    std::size_t used = 0;
    try {
      index.push_back(std::stoll(item, &used));
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || item.find_first_not_of(" ", used) != std::string::npos)
      throw std::invalid_argument("--vary " + vary + ": \"" + item + "\" is not an index");
    if (comma == std::string::npos) break;
    at = comma + 1;
  }
  const Shape& shape = inputs[input].shape();
  bool fits = index.size() == shape.size();
  std::int64_t flat = 0;
  for (std::size_t d = 0; fits && d < shape.size(); ++d) {
    fits = index[d] >= 0 && index[d] < shape[d];
    flat = flat * shape[d] + index[d];
  }
  if (!fits)
    throw std::invalid_argument("--vary " + vary + ": " + name + " has shape " + to_string(shape) +
                                "; give one index per dim, each in range");
  return {input, flat};
}

std::vector<Tensor> base_inputs(const LossCurveRequest& request, const LossSpec& spec) {
  if (request.inputs_file.empty()) {
    Generator gen(request.seed);
    return spec.sample(DType::Float64, gen);
  }
  std::ifstream in(request.inputs_file);
  if (!in) throw std::invalid_argument("--inputs " + request.inputs_file + ": cannot open the file");
  return read_loss_inputs(spec, in, DType::Float64);
}

}  // namespace

CurvePoints loss_curve_points(const LossCurveRequest& r) {
  const LossSpec& spec = find_loss(r.name);
  const LossParams params = with_defaults(spec.name, spec.params, loss_settings("--set", r.set));
  const Reduction reduction = parse_reduction(r.reduction);
  if (std::find(spec.reductions.begin(), spec.reductions.end(), reduction) == spec.reductions.end())
    throw std::invalid_argument(spec.name + " does not support reduction " + r.reduction);
  if (!std::isfinite(r.from) || !std::isfinite(r.to) || r.from == r.to)
    throw std::invalid_argument("--from and --to must be two different finite numbers, got " + std::to_string(r.from) +
                                " and " + std::to_string(r.to));
  if (r.points < 2 || r.points > 100000)
    throw std::invalid_argument("--points must be in [2, 100000], got " + std::to_string(r.points));
  std::vector<Tensor> base = base_inputs(r, spec);
  for (Tensor& t : base) t = t.defined() ? t.detach() : t;
  const Element at = parse_element(r.vary, spec, base);

  CurvePoints out{r.vary, {}, {}, {}, {}};
  for (int k = 0; k < r.points; ++k) {
    const double v = r.from + (r.to - r.from) * (static_cast<double>(k) / (r.points - 1));
    std::vector<Tensor> in = base;
    Tensor varied = base[at.input].clone();
    varied.data<double>()[at.flat] = v;
    in[at.input] = varied.requires_grad_();
    Tensor total = sum(spec.call(in, params, reduction));
    double g = 0, h = 0;
    if (total.requires_grad()) {
      Tensor element = slice(reshape(grad({total}, {varied}, {}, {.retain_graph = true, .create_graph = true})[0], {-1}), 0, at.flat, at.flat + 1);
      g = element.item();
      if (element.requires_grad()) h = reshape(grad({element}, {varied}, {}, {.retain_graph = true})[0], {-1}).to_vector()[at.flat];
    }
    out.x.push_back(v);
    out.loss.push_back(total.item());
    out.grad.push_back(g);
    out.hessian.push_back(h);
  }
  return out;
}

std::string loss_curve(const LossCurveRequest& r) {
  if (r.format != "csv" && r.format != "svg" && r.format != "png" && r.format != "pdf")
    throw std::invalid_argument("--format must be csv, svg, png or pdf, got " + r.format);
  const CurvePoints c = loss_curve_points(r);
  if (r.format == "csv") {
    std::string text = c.element + ",loss,grad,hessian_diag\n";
    char line[128];
    for (std::size_t k = 0; k < c.x.size(); ++k) {
      std::snprintf(line, sizeof line, "%.17g,%.17g,%.17g,%.17g\n", c.x[k], c.loss[k], c.grad[k], c.hessian[k]);
      text += line;
    }
    return text;
  }
  // Three charts stacked: the loss, its derivative and its second derivative along the element.
  const std::vector<std::pair<std::string, const std::vector<double>*>> rows = {
      {"loss", &c.loss}, {"d loss / d " + c.element, &c.grad}, {"d² loss / d " + c.element + "²", &c.hessian}};
  std::vector<Panel> panels;
  for (const auto& row : rows)  // (clang 14 cannot capture a structured binding)
    panels.push_back([&c, row](Figure& f, Box box) {
      draw_line_chart(f, box,
                      {.title = row.first, .x = {c.element}, .y = {row.first}, .series = {{row.first, c.x, *row.second}}});
    });
  return grid_figure(r.name + " along " + c.element, panels, 1, 640, 300).render(parse_image_format(r.format));
}

}  // namespace zg
