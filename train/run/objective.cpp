#include "zoograd/train/run/objective.h"

#include <algorithm>
#include <cassert>
#include <map>
#include <stdexcept>

#include "zoograd/core/ops.h"
#include "zoograd/layers/cosine_linear.h"
#include "zoograd/layers/linear.h"
#include "zoograd/losses/angular.h"

namespace zg {

namespace {

bool has_param(const LossSpec& spec, const std::string& name) {
  return std::any_of(spec.params.begin(), spec.params.end(), [&](const LossParam& p) { return p.name == name; });
}

std::string joined(const std::vector<std::string>& names) {
  std::string s;
  for (const std::string& n : names) s += (s.empty() ? "" : ", ") + n;
  return s;
}

}  // namespace

std::vector<std::string> Objective::names() {
  std::vector<std::string> names;
  for (const LossSpec& s : loss_catalog())
    if (s.classifier) names.push_back(s.name);
  return names;
}

const LossSpec& Objective::lookup(const std::string& loss) {
  for (const LossSpec& s : loss_catalog())
    if (s.name == loss) return s;
  throw std::invalid_argument("--loss: unknown loss \"" + loss + "\"; choose one of " + joined(names()));
}

Objective::Objective(const std::string& loss, const LossParams& params, std::optional<LambdaSchedule> anneal)
    : Objective(lookup(loss), params, anneal) {}

Objective::Objective(const LossSpec& spec, const LossParams& params, std::optional<LambdaSchedule> anneal)
    : spec_(&spec), anneal_(anneal) {
  if (!spec.classifier)
    throw std::invalid_argument("--loss: " + spec.family + " loss \"" + spec.name +
                                "\" cannot train a classifier; choose one of " + joined(names()));
  if (anneal && !has_param(spec, "lambda"))
    throw std::invalid_argument(spec.name + " has no lambda parameter to anneal");
  try {
    params_ = with_defaults(spec.name, spec.params, params);
    if (anneal) lsoftmax_lambda(0, anneal->base, anneal->gamma, anneal->power, anneal->lambda_min);  // checks it
    // The catalog's sample inputs reject bad values (a negative margin, m = 0, ...) now rather than
    // after the data set has loaded.
    Generator gen(0);
    spec.call(spec.sample(DType::Float64, gen), params_, Reduction::Mean);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument("--set: " + std::string(e.what()));
  }
}

bool Objective::needs_head() const {
  ScoresAs s = spec_->classifier->scores;
  return s == ScoresAs::LinearHead || s == ScoresAs::CosineHead;
}

std::shared_ptr<Module> Objective::make_head(std::int64_t features, std::int64_t classes, Generator& gen) const {
  assert(needs_head());
  if (spec_->classifier->scores == ScoresAs::CosineHead) return std::make_shared<CosineLinear>(features, classes, gen);
  return std::make_shared<Linear>(features, classes, gen, LinearOptions{.bias = false});
}

LossParams Objective::at_step(std::int64_t step) const {
  LossParams p = params_;
  if (has_param(*spec_, "iteration")) p["iteration"] += static_cast<double>(step);
  if (anneal_) p["lambda"] = *lambda(step);
  if (margin_warmup_ > 0) {
    // Each additive margin parameter with its value for "no margin".
    static const std::map<std::string, std::vector<std::pair<std::string, double>>> margins = {
        {"cosface_loss", {{"m", 0}}},
        {"arcface_loss", {{"m", 0}}},
        {"combined_margin_loss", {{"m1", 1}, {"m2", 0}, {"m3", 0}}}};
    double f = std::min(1.0, static_cast<double>(step) / static_cast<double>(margin_warmup_));
    if (auto it = margins.find(spec_->name); it != margins.end())
      for (const auto& [name, none] : it->second) p[name] = none + f * (p[name] - none);
  }
  return p;
}

std::optional<double> Objective::lambda(std::int64_t step) const {
  if (anneal_) return lsoftmax_lambda(step, anneal_->base, anneal_->gamma, anneal_->power, anneal_->lambda_min);
  if (spec_->name != "sphereface_loss") return std::nullopt;
  LossParams p = at_step(step);
  return lsoftmax_lambda(static_cast<std::int64_t>(p.at("iteration")), p.at("base"), p.at("gamma"), p.at("power"),
                         p.at("lambda_min"));
}

ObjectiveOutput Objective::operator()(Sequential& model, const Tensor& x, const Tensor& labels,
                                      std::int64_t step) const {
  const ClassifierUse use = *spec_->classifier;
  const bool batch_mean = std::find(spec_->reductions.begin(), spec_->reductions.end(), Reduction::BatchMean) !=
                          spec_->reductions.end();
  const Reduction reduction = batch_mean ? Reduction::BatchMean : Reduction::Mean;
  if (needs_head()) {
    Tensor features = x;
    for (std::size_t i = 0; i + 1 < model.size(); ++i) features = model[i](features);
    Module& head = model[model.size() - 1];
    Tensor weight = head.named_parameters().at(0).second;  // the head's only parameter, W (C, d)
    return {spec_->call({features, weight, labels}, at_step(step), reduction), head(features)};
  }
  Tensor scores = model(x);
  Tensor input = use.scores == ScoresAs::LogSoftmax ? log_softmax(scores, 1)
                 : use.scores == ScoresAs::Sigmoid  ? sigmoid(scores)
                                                    : scores;
  Tensor target = labels;
  if (use.labels != LabelsAs::Index) {
    target = one_hot(labels, scores.size(1), scores.dtype());
    if (use.labels == LabelsAs::Signs) target = target * 2.0 - 1.0;
  }
  return {spec_->call({input, target}, at_step(step), reduction), scores};
}

}  // namespace zg
