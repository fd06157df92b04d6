#include "zoograd/train/atlas/margins_distributed.h"

#include "zoograd/core/ops.h"
#include "zoograd/layers/linear.h"
#include "zoograd/train/run/distributed.h"
#include "zoograd/train/run/interrupt.h"
#include "zoograd/train/run/trainer.h"

namespace zg {

namespace {

nlohmann::json circle_json(const CircleClasses& c) { return {{"argmax", c.argmax}, {"margin", c.margin}}; }
CircleClasses circle_from(const nlohmann::json& j) {
  return {j.at("argmax").get<std::vector<std::int64_t>>(), j.at("margin").get<std::vector<std::int64_t>>()};
}

nlohmann::json panel_json(const PanelResult& r) {
  nlohmann::json j = {{"name", r.panel.name}, {"title", r.panel.title}, {"loss", r.panel.loss},
                      {"params", r.panel.params}, {"features", r.features}, {"labels", r.labels},
                      {"weights", r.weights}, {"test_accuracy", r.test_accuracy}, {"seconds", r.seconds},
                      {"curves", r.curves}, {"circle", circle_json(r.circle)}, {"steps", r.steps},
                      {"snapshots", nlohmann::json::array()}};
  if (const std::optional<LambdaSchedule>& a = r.panel.anneal) j["anneal"] = {a->base, a->gamma, a->power, a->lambda_min};
  for (const Snapshot& s : r.snapshots)
    j["snapshots"].push_back({{"step", s.step}, {"features", s.features}, {"labels", s.labels}, {"weights", s.weights},
                              {"bias", s.bias}, {"cosine_head", s.cosine_head}, {"circle", circle_json(s.circle)},
                              {"accuracy", s.accuracy}});
  return j;
}

// The trained head again, from its weights (and bias: the last snapshot is taken at the end).
std::shared_ptr<Module> rebuilt_head(const PanelResult& r, std::int64_t dim, std::int64_t classes) {
  Objective objective(r.panel.loss, r.panel.params, r.panel.anneal);
  Generator gen(0);
  std::shared_ptr<Module> head = objective.needs_head() ? objective.make_head(dim, classes, gen)
                                                        : std::make_shared<Linear>(dim, classes, gen);
  NamedTensors state = {{"weight", tensor(r.weights, {classes, dim})}};
  if (!r.snapshots.empty() && !r.snapshots.back().bias.empty())
    state.emplace_back("bias", tensor(r.snapshots.back().bias, {classes}));
  head->load_state_dict(state);
  return head;
}

PanelResult panel_from(const nlohmann::json& j) {
  PanelResult r;
  r.panel = {j.at("name"), j.at("title"), j.at("loss"), j.at("params").get<LossParams>(), std::nullopt};
  if (j.contains("anneal")) {
    const auto a = j.at("anneal").get<std::vector<double>>();
    r.panel.anneal = LambdaSchedule{a.at(0), a.at(1), a.at(2), a.at(3)};
  }
  r.features = j.at("features").get<std::vector<double>>();
  r.labels = j.at("labels").get<std::vector<std::int64_t>>();
  r.weights = j.at("weights").get<std::vector<double>>();
  r.test_accuracy = j.at("test_accuracy");
  r.seconds = j.at("seconds");
  r.curves = j.at("curves");
  r.circle = circle_from(j.at("circle"));
  r.steps = j.at("steps");
  for (const nlohmann::json& s : j.at("snapshots"))
    r.snapshots.push_back({s.at("step"), s.at("features").get<std::vector<double>>(),
                           s.at("labels").get<std::vector<std::int64_t>>(), s.at("weights").get<std::vector<double>>(),
                           s.at("bias").get<std::vector<double>>(), s.at("cosine_head"), circle_from(s.at("circle")),
                           s.at("accuracy")});
  const auto n = static_cast<std::int64_t>(r.labels.size());
  const std::int64_t dim = n > 0 ? static_cast<std::int64_t>(r.features.size()) / n : 2;
  const std::int64_t classes = static_cast<std::int64_t>(r.weights.size()) / dim;
  r.geometry = feature_geometry(r.features, r.labels, r.weights, classes, dim);
  if (!r.snapshots.empty()) {  // the first seed's panels draw the head's regions
    std::shared_ptr<Module> head = rebuilt_head(r, dim, classes);
    r.classify = [head, dim](const std::vector<double>& points) {
      NoGradGuard no_grad;
      auto m = static_cast<std::int64_t>(points.size()) / dim;
      std::vector<std::int64_t> cls;
      for (double v : argmax((*head)(tensor(points, {m, dim}, DType::Float32)), 1).to_vector())
        cls.push_back(static_cast<std::int64_t>(v));
      return cls;
    };
  }
  return r;
}

// An error as data: its kind (interrupted, diverged, other), signal and message.
nlohmann::json error_json(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const Interrupted& x) {
    return {{"kind", "interrupted"}, {"signal", x.signal}, {"what", x.what()}};
  } catch (const DivergenceError& x) {
    return {{"kind", "diverged"}, {"what", x.what()}};
  } catch (const std::exception& x) {
    return {{"kind", "error"}, {"what", x.what()}};
  }
}

std::exception_ptr error_from(const nlohmann::json& j) {
  const std::string what = j.at("what"), kind = j.at("kind");
  if (kind == "interrupted") return std::make_exception_ptr(Interrupted(j.at("signal"), what));
  if (kind == "diverged") return std::make_exception_ptr(DivergenceError(what));
  return std::make_exception_ptr(std::runtime_error("rank " + std::string(j.at("rank").dump()) + ": " + what));
}

}  // namespace

std::vector<std::size_t> rank_items(std::size_t work) {
  std::vector<std::size_t> mine;
  for (auto w = static_cast<std::size_t>(world().rank); w < work; w += static_cast<std::size_t>(world().size))
    mine.push_back(w);
  return mine;
}

void gather_panels(std::vector<std::optional<PanelResult>>& results, std::vector<std::exception_ptr>& errors) {
  if (!world().distributed()) return;
  nlohmann::json mine = nlohmann::json::array();
  for (std::size_t w : rank_items(results.size())) {
    if (errors[w]) {
      nlohmann::json e = error_json(errors[w]);
      e["rank"] = world().rank;
      mine.push_back({{"item", w}, {"error", e}});
    } else if (results[w]) {
      mine.push_back({{"item", w}, {"result", panel_json(*results[w])}});
    }
  }
  // CBOR keeps every double exact (the report must equal one process's).
  const std::vector<std::uint8_t> bytes = nlohmann::json::to_cbor(mine);
  const std::vector<std::string> parts = gather_bytes(std::string(bytes.begin(), bytes.end()));
  for (std::size_t r = 1; r < parts.size(); ++r)
    for (const nlohmann::json& item : nlohmann::json::from_cbor(parts[r])) {
      const std::size_t w = item.at("item");
      if (item.contains("error")) errors[w] = error_from(item.at("error"));
      else results[w] = panel_from(item.at("result"));
    }
}

}  // namespace zg
