#include "train/config.h"

#include <fstream>
#include <stdexcept>

#include "optim/schedule.h"
#include "train/objective.h"

namespace zg {

nlohmann::json TrainConfig::to_json() const {
  return {{"data", data},         {"model", model},       {"hidden", hidden},     {"loss", loss},
          {"loss_params", loss_params}, {"embedding_dim", embedding_dim},
          {"epochs", epochs},     {"batch_size", batch_size}, {"lr", lr},         {"momentum", momentum},
          {"weight_decay", weight_decay}, {"schedule", schedule}, {"seed", seed}, {"threads", threads},
          {"out", out},           {"quiet", quiet},       {"detect_anomaly", detect_anomaly}};
}

namespace {
using nlohmann::json;

// What a setting whose default is `want` accepts: hidden (the only array) holds integers,
// loss_params (the only object) numbers; a negative seed is refused, not wrapped around.
const char* kind_of(const json& want) {
  if (want.is_number_unsigned()) return "a non-negative integer";
  if (want.is_number_integer()) return "an integer";
  if (want.is_number_float()) return "a number";
  if (want.is_array()) return "an array of integers";
  if (want.is_object()) return "an object of numbers";
  return want.is_string() ? "a string" : "a boolean";
}

bool fits(const json& want, const json& element) {
  return want.is_array() ? element.is_number_integer() : element.is_number();
}

// The type of `got`, or of the element that does not fit, when `got` cannot set the setting; "" when it can.
std::string misfit(const json& want, const json& got) {
  if (want.is_number_unsigned())
    return got.is_number_unsigned() ? "" : got.is_number_integer() ? "a negative integer" : got.type_name();
  if (want.is_number_integer()) return got.is_number_integer() ? "" : got.type_name();
  if (want.is_number_float()) return got.is_number() ? "" : got.type_name();
  if (got.type() != want.type()) return got.type_name();
  if (got.is_array() || got.is_object())
    for (const json& element : got)
      if (!fits(want, element)) return std::string(got.type_name()) + " holding " + element.type_name();
  return "";
}
}  // namespace

TrainConfig TrainConfig::from_json(const nlohmann::json& j, const std::string& source) {
  if (!j.is_object()) throw std::invalid_argument(source + ": expected a JSON object of settings");
  TrainConfig c;
  nlohmann::json defaults = c.to_json();
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (!defaults.contains(it.key()))
      throw std::invalid_argument(source + ": unknown setting \"" + it.key() + "\"");
    const json& want = defaults[it.key()];
    if (const std::string got = misfit(want, it.value()); !got.empty())
      throw std::invalid_argument(source + ": setting \"" + it.key() + "\" has the wrong type (" + got + ", expected " +
                                  kind_of(want) + ")");
  }
  try {
    c.data = j.value("data", c.data);
    c.model = j.value("model", c.model);
    c.hidden = j.value("hidden", c.hidden);
    c.loss = j.value("loss", c.loss);
    c.loss_params = j.value("loss_params", c.loss_params);
    c.embedding_dim = j.value("embedding_dim", c.embedding_dim);
    c.epochs = j.value("epochs", c.epochs);
    c.batch_size = j.value("batch_size", c.batch_size);
    c.lr = j.value("lr", c.lr);
    c.momentum = j.value("momentum", c.momentum);
    c.weight_decay = j.value("weight_decay", c.weight_decay);
    c.schedule = j.value("schedule", c.schedule);
    c.seed = j.value("seed", c.seed);
    c.threads = j.value("threads", c.threads);
    c.out = j.value("out", c.out);
    c.quiet = j.value("quiet", c.quiet);
    c.detect_anomaly = j.value("detect_anomaly", c.detect_anomaly);
    c.validate();
  } catch (const std::exception& e) {
    throw std::invalid_argument(source + ": " + e.what());
  }
  return c;
}

TrainConfig TrainConfig::load(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::invalid_argument(path + ": cannot open the config file");
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    throw std::invalid_argument(path + ": not valid JSON: " + e.what());
  }
  return from_json(j, path);
}

void TrainConfig::validate() const {
  auto need = [](bool ok, const std::string& what) {
    if (!ok) throw std::invalid_argument(what);
  };
  need(model == "mlp" || model == "cnn", "--model: unknown model \"" + model + "\"; expected mlp or cnn");
  Objective{loss, loss_params};  // throws naming a loss that cannot train a classifier, or a bad --set
  need(embedding_dim >= 1, "--embedding-dim: must be positive, got " + std::to_string(embedding_dim));
  need(epochs >= 1, "--epochs: must be at least 1, got " + std::to_string(epochs));
  need(batch_size >= 1, "--batch-size: must be at least 1, got " + std::to_string(batch_size));
  need(lr > 0, "--lr: must be positive, got " + std::to_string(lr));
  need(momentum >= 0 && momentum < 1, "--momentum: must be in [0, 1), got " + std::to_string(momentum));
  need(weight_decay >= 0, "--weight-decay: must be non-negative, got " + std::to_string(weight_decay));
  need(threads >= 0, "--threads: must be non-negative, got " + std::to_string(threads));
  for (std::int64_t h : hidden) need(h >= 1, "--hidden: widths must be positive, got " + std::to_string(h));
  Schedule::parse(schedule);
}

}  // namespace zg
