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

TrainConfig TrainConfig::from_json(const nlohmann::json& j, const std::string& source) {
  if (!j.is_object()) throw std::invalid_argument(source + ": expected a JSON object of settings");
  TrainConfig c;
  nlohmann::json defaults = c.to_json();
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (!defaults.contains(it.key()))
      throw std::invalid_argument(source + ": unknown setting \"" + it.key() + "\"");
    const nlohmann::json& want = defaults[it.key()];
    const nlohmann::json& got = it.value();
    bool ok = (want.is_string() && got.is_string()) || (want.is_boolean() && got.is_boolean()) ||
              (want.is_array() && got.is_array()) ||
              (want.is_object() && got.is_object()) || (want.is_number_integer() && got.is_number_integer()) ||
              (want.is_number_float() && got.is_number());
    if (!ok)
      throw std::invalid_argument(source + ": setting \"" + it.key() + "\" has the wrong type (" + got.type_name() +
                                  ", expected " + want.type_name() + ")");
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
  } catch (const nlohmann::json::exception& e) {
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
