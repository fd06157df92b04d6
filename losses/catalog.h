#pragma once
// The loss catalog: one plain table describing every loss (name, family, formula, inputs,
// parameters with defaults, reductions, sample inputs, and the call). It drives the generic loss
// tests, the `zoograd loss` tool and the README's zoo table. Each family file contributes its rows
// through a function (regression_losses(), ...); catalog.cpp concatenates them.
#include <deque>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "zoograd/core/generator.h"
#include "zoograd/core/tensor.h"
#include "zoograd/losses/reduction.h"

namespace zg {

struct LossInput {
  std::string name;       // as in the function's signature: "input", "target", "weight", ...
  std::string shape;      // documentation, e.g. "(N, C)", "(N)", "same as input"
  DType dtype;            // Float32 (meaning: either floating dtype) or Int64 (class indices)
  bool differentiable;    // gradients are taken (and gradchecked) with respect to it
  // Optional inputs come last. A call may receive fewer inputs, or an undefined tensor, in their
  // place (optional_input), and a row's sample leaves them out.
  bool optional = false;
  // For an Int64 target: it may instead hold floating class probabilities of the first input's
  // shape (PyTorch's rule for cross_entropy); `loss eval` reads a nested array of that shape so.
  bool or_probabilities = false;
  // Its values live in a bounded domain (probabilities): the generic checks' extremes leave its
  // scale alone (losses/check_loss.h).
  bool bounded = false;
};

// The values a number accepts: its kind and its bounds. The catalog checks every loss parameter
// against its range before the loss runs (with_defaults), so a value from the command line, a
// config file or loss eval never reaches a loss, a loop count or a size unchecked; the programs'
// own flags are checked with the same type (train/run/values.h). Non-finite values are never accepted.
struct ValueRange {
  enum class Kind { Real, Whole, Boolean };
  Kind kind = Kind::Real;
  double min = -std::numeric_limits<double>::max(), max = std::numeric_limits<double>::max();
  bool open_min = false, open_max = false;  // whether min, max themselves are excluded

  static ValueRange real(double min, double max) { return {Kind::Real, min, max}; }
  static ValueRange positive(double max = std::numeric_limits<double>::max()) { return {Kind::Real, 0, max, true}; }
  static ValueRange non_negative(double max = std::numeric_limits<double>::max()) { return {Kind::Real, 0, max}; }
  static ValueRange probability() { return {Kind::Real, 0, 1}; }
  static ValueRange whole(double min, double max) { return {Kind::Whole, min, max}; }
  // A class index, negative ones included (ignore_index = -100): any whole number a double holds exactly.
  static ValueRange index() { return whole(-9007199254740992.0, 9007199254740992.0); }
  static ValueRange boolean() { return {Kind::Boolean, 0, 1}; }

  bool contains(double v) const;
  std::string text() const;  // "a number in (0, 1000]", "a whole number in [1, 100]", "0 or 1", ...
};

// Throws std::invalid_argument "<what>: expected <range.text()>, got <as_given>" when range does not
// contain value; as_given is the value as the user wrote it (default: value printed).
void check_value(const std::string& what, double value, const ValueRange& range, const std::string& as_given = "");

// A number as text, shortest form that reads back to the same double ("0.1", "1e+300", "nan").
std::string number_text(double v);

// in[i] if the call received it, else an undefined tensor (an optional input left out).
inline Tensor optional_input(const std::vector<Tensor>& in, std::size_t i) { return i < in.size() ? in[i] : Tensor(); }

struct LossParam {
  std::string name;       // PyTorch's argument name where PyTorch has the loss: "margin", "beta", ...
  double default_value;   // booleans are 0/1, integers are whole numbers
  std::string help;
  ValueRange range = {};  // what it accepts; by default any finite number
};

using LossParams = std::map<std::string, double>;  // name -> value; missing names take the default

// How a classifier feeds a classification loss (`zoograd train --loss`): what the loss's first
// input is made of, and what its target is made of the class labels y.
enum class ScoresAs {
  Logits,      // the network's class scores z (N, C)
  LogSoftmax,  // log_softmax(z)
  Sigmoid,     // sigmoid(z), one probability per class (one-vs-rest)
  LinearHead,  // features x (N, d) and the weight W (C, d) of a bias-free linear head; scores W·x
  CosineHead,  // features x (N, d) and the weight W (C, d) of a cosine head; scores cos θ
};
enum class LabelsAs {
  Index,   // y itself, int64 (N)
  OneHot,  // one_hot(y) (N, C): a probability target, or C one-vs-rest 0/1 targets
  Signs,   // 2·one_hot(y) - 1: C one-vs-rest ±1 targets
};
struct ClassifierUse {
  ScoresAs scores;
  LabelsAs labels;
};  // name -> value; missing names take the default

struct LossSpec {
  std::string name;        // snake_case, PyTorch's functional name where it has one: "mse_loss"
  std::string family;      // "regression" | "classification" | "hinge" | "metric" | "angular"
  std::string formula;     // one line, the seed's or the paper's equation in plain text
  std::vector<LossInput> inputs;
  std::vector<LossParam> params;
  std::vector<Reduction> reductions;  // the ones it supports (None, Mean, Sum, and BatchMean where PyTorch has it)
  // Sample inputs, in the order of `inputs` without the optional ones, in the given floating dtype
  // (index inputs stay int64), kept at least 10·1e-6 away from every kink of the loss, whatever the
  // generator's state, so central differences are valid (check_loss gradchecks two draws).
  std::function<std::vector<Tensor>(DType, Generator&)> sample;
  // The loss of the inputs with the given parameters (defaults for missing ones) and reduction.
  std::function<Tensor(const std::vector<Tensor>&, const LossParams&, Reduction)> call;
  // Set for the losses a classifier can train with; metric and regression losses have none.
  std::optional<ClassifierUse> classifier = std::nullopt;
  // The parameters under which the gradient is the derivative of the value, for gradcheck (the
  // defaults when empty): circle loss's default detaches its weights on purpose.
  LossParams gradcheck_params = {};
  // Further parameter values gradchecked too, each over gradcheck_params: those that switch a
  // branch of the formula or move a kink (the samples staying clear of it), e.g. huber_loss's
  // delta = 0.1, where every sampled error lies on the line.
  std::vector<LossParams> gradcheck_variants = {};
};

// Every loss: zoograd's families, then the registered ones in their order of registration.
const std::deque<LossSpec>& loss_catalog();
// Adds a loss written outside zoograd to the catalog, so that `zoograd loss list/eval`, Objective
// and the generic checks (losses/check_loss.h) see it like zoograd's own. Throws naming the loss
// when its name is taken or empty, its call or sample is missing, or a default is out of range.
// Register before the catalog is used from other threads (it is not synchronised).
void register_loss(LossSpec spec);
// The catalog's rows of one family ("regression", "classification", "hinge", "metric", "angular").
std::vector<LossSpec> losses_of_family(const std::string& family);
// Throws naming the unknown loss and listing the known ones.
const LossSpec& find_loss(const std::string& name);
// The value of a parameter: params[name] if given, else the spec's default; throws on a name the
// spec does not have (naming it and the spec's parameters).
double param(const LossSpec& spec, const LossParams& params, const std::string& name);

// A 0/1 parameter (a switch) as a bool; throws naming the loss, the parameter and the value otherwise.
bool switch_param(const std::string& loss, const LossParams& params, const std::string& name);

// Every declared parameter's value: the given one or its default. A name the loss does not declare
// is refused (naming it and the declared ones) rather than ignored, since a typo would otherwise
// leave the default in place; a value outside the parameter's range is refused by check_value.
LossParams with_defaults(const std::string& loss, const std::vector<LossParam>& declared, const LossParams& given);

// Each family's rows as written; loss_catalog() wraps every call in with_defaults, so a row's call
// receives every declared parameter and may read it with params.at(name).
std::vector<LossSpec> regression_losses();
std::vector<LossSpec> classification_losses();
std::vector<LossSpec> hinge_losses();
std::vector<LossSpec> metric_losses();
std::vector<LossSpec> unified_losses();  // family "metric": seed 000's unified loss L_u (losses/unified.cpp)
std::vector<LossSpec> angular_losses();

}  // namespace zg
