#include "zoograd/train/run/config.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "zoograd/optim/schedule.h"
#include "zoograd/train/run/objective.h"
#include "zoograd/train/run/values.h"

namespace zg {

nlohmann::json TrainConfig::to_json() const {
  return {{"data", data},         {"model", model},       {"hidden", hidden},     {"loss", loss},
          {"loss_params", loss_params}, {"embedding_dim", embedding_dim},
          {"epochs", epochs},     {"batch_size", batch_size}, {"lr", lr},         {"momentum", momentum},
          {"weight_decay", weight_decay}, {"schedule", schedule}, {"seed", seed}, {"dtype", dtype}, {"threads", threads},
          {"out", out},           {"quiet", quiet},       {"detect_anomaly", detect_anomaly}};
}

namespace {
using nlohmann::json;
using Form = TrainSetting::Form;
using Texts = std::vector<std::string>;

constexpr std::size_t kMaxLayers = 16;

const std::string& one(const std::string& what, const Texts& texts) {
  if (texts.size() != 1) throw UsageError(what + ": expected one value, got " + std::to_string(texts.size()));
  return texts[0];
}

TrainSetting text(const char* key, const char* flag, std::string TrainConfig::*field, std::string help) {
  return {key, flag, Form::Text, std::move(help),
          [field](TrainConfig& c, const std::string& what, const Texts& t) { c.*field = one(what, t); },
          [field](const TrainConfig& c) { return Texts{c.*field}; }};
}

TrainSetting whole(const char* key, const char* flag, std::int64_t TrainConfig::*field, ValueRange range,
                   std::string help) {
  return {key, flag, Form::Number, std::move(help),
          [field, range](TrainConfig& c, const std::string& what, const Texts& t) {
            c.*field = whole_in(what, one(what, t), range);
          },
          [field](const TrainConfig& c) { return Texts{std::to_string(c.*field)}; }};
}

TrainSetting real(const char* key, const char* flag, double TrainConfig::*field, ValueRange range, std::string help) {
  return {key, flag, Form::Number, std::move(help),
          [field, range](TrainConfig& c, const std::string& what, const Texts& t) {
            c.*field = number_in(what, one(what, t), range);
          },
          [field](const TrainConfig& c) { return Texts{number_text(c.*field)}; }};
}

TrainSetting on_off(const char* key, const char* flag, bool TrainConfig::*field, std::string help) {
  return {key, flag, Form::Switch, std::move(help),
          [field](TrainConfig& c, const std::string& what, const Texts& t) { c.*field = switch_from(what, one(what, t)); },
          [field](const TrainConfig& c) { return Texts{c.*field ? "true" : "false"}; }};
}

std::string joined(const std::vector<std::string>& names, const char* separator) {
  std::string s;
  for (const std::string& n : names) s += (s.empty() ? "" : separator) + n;
  return s;
}

std::vector<TrainSetting> make_settings() {
  using C = TrainConfig;
  TrainSetting model = text("model", "--model", &C::model, "mlp | cnn (LeNet-style)");
  model.set = [](C& c, const std::string& what, const Texts& t) {
    c.model = one(what, t);
    if (c.model != "mlp" && c.model != "cnn")
      throw UsageError(what + ": unknown model " + json(c.model).dump() + "; expected mlp or cnn");
  };
  TrainSetting hidden{"hidden", "--hidden", Form::List, "mlp hidden widths, e.g. --hidden 512 256",
                      [](C& c, const std::string& what, const Texts& t) {
                        if (t.empty() || t.size() > kMaxLayers)
                          throw UsageError(what + ": expected 1 to " + std::to_string(kMaxLayers) + " widths, got " +
                                           std::to_string(t.size()));
                        c.hidden.clear();
                        for (const std::string& w : t) c.hidden.push_back(whole_in(what, w, kSizeRange));
                      },
                      [](const C& c) {
                        Texts t;
                        for (std::int64_t w : c.hidden) t.push_back(std::to_string(w));
                        return t;
                      }};
  TrainSetting params{"loss_params", "--set", Form::Params, "loss parameter, key=value (repeatable)",
                      [](C& c, const std::string& what, const Texts& t) { c.loss_params = loss_settings(what, t); },
                      [](const C& c) {
                        Texts t;
                        for (const auto& [key, value] : c.loss_params) t.push_back(key + "=" + number_text(value));
                        return t;
                      }};
  TrainSetting dtype = text("dtype", "--dtype", &C::dtype,
                            "float32 | float64: parameters, batches, loss, gradients and checkpoints");
  dtype.set = [](C& c, const std::string& what, const Texts& t) {
    const std::string& name = one(what, t);
    if (name != "float32" && name != "float64")
      throw UsageError(what + ": unknown dtype " + json(name).dump() + "; expected float32 or float64");
    c.dtype = name;
  };
  TrainSetting seed{"seed", "--seed", Form::Number, "random seed (initial weights, shuffling, data split)",
                    [](C& c, const std::string& what, const Texts& t) { c.seed = seed_from(what, one(what, t)); },
                    [](const C& c) { return Texts{std::to_string(c.seed)}; }};
  return {
      text("data", "--data", &C::data,
           "fashion-mnist | mnist-digits | moons | spirals | blobs | idx:TRAIN_IMG,TRAIN_LBL,TEST_IMG,TEST_LBL | "
           "folder:PATH"),
      model,
      hidden,
      text("loss", "--loss", &C::loss, joined(Objective::names(), " | ") + " (see zoograd loss list)"),
      params,
      whole("embedding_dim", "--embedding-dim", &C::embedding_dim, kSizeRange,
            "features before the head of an angular loss"),
      whole("epochs", "--epochs", &C::epochs, kEpochRange, "epochs in total (with --resume: the new total)"),
      whole("batch_size", "--batch-size", &C::batch_size, kSizeRange, "samples per step"),
      real("lr", "--lr", &C::lr, kLearningRateRange, "learning rate"),
      real("momentum", "--momentum", &C::momentum, kMomentumRange, "SGD momentum"),
      real("weight_decay", "--weight-decay", &C::weight_decay, kWeightDecayRange, "L2 weight decay"),
      text("schedule", "--schedule", &C::schedule,
           "constant | step:S[:G] | multistep:M1,M2[:G] | cosine:T[:MIN], optionally +warmup:W"),
      seed,
      dtype,
      whole("threads", "--threads", &C::threads, kThreadRange,
            "threads for the GEMMs and our loops (0: OPENBLAS_NUM_THREADS, else the cores)"),
      text("out", "--out", &C::out, "run folder (default runs/<data>-<model>[-N])"),
      on_off("quiet", "--quiet", &C::quiet, "no progress or per-epoch lines"),
      on_off("detect_anomaly", "--detect-anomaly", &C::detect_anomaly,
             "check every op's output and gradient for NaN/Inf and name the first (slow)"),
  };
}

// A config value as the texts its setting reads: a string's content, a number as written, an
// array's or object's elements. A value of the wrong structure throws naming its JSON type.
Texts texts_of(const TrainSetting& s, const json& v, const std::string& what) {
  auto wrong = [&](const char* expected) {
    return UsageError(what + " has the wrong type (" + v.type_name() + ", expected " + expected + ")");
  };
  Texts t;
  switch (s.form) {
    case Form::Text:
      if (!v.is_string()) throw wrong("a string");
      return {v.get<std::string>()};
    case Form::Number:
    case Form::Switch: return {v.dump()};  // the door reads a number as written and refuses anything else
    case Form::List:
      if (!v.is_array()) throw wrong("an array of whole numbers");
      for (const json& e : v) t.push_back(e.dump());
      return t;
    case Form::Params:
      if (!v.is_object()) throw wrong("an object of numbers");
      for (auto it = v.begin(); it != v.end(); ++it) t.push_back(it.key() + "=" + it.value().dump());
      return t;
  }
  return t;
}

// What validate() checks beyond each setting's own range: the loss with its parameters, the schedule.
void check_combination(const TrainConfig& c) {
  Objective{c.loss, c.loss_params};  // throws naming a loss that cannot train a classifier, or a bad --set
  Schedule::parse(c.schedule);
}
}  // namespace

const std::vector<TrainSetting>& train_settings() {
  static const std::vector<TrainSetting> settings = make_settings();
  return settings;
}

TrainConfig TrainConfig::from_json(const nlohmann::json& j, const std::string& source) {
  if (!j.is_object()) throw UsageError(source + ": expected a JSON object of settings");
  TrainConfig c;
  for (auto it = j.begin(); it != j.end(); ++it) {
    auto s = std::find_if(train_settings().begin(), train_settings().end(),
                          [&](const TrainSetting& row) { return row.key == it.key(); });
    if (s == train_settings().end()) throw UsageError(source + ": unknown setting " + json(it.key()).dump());
    const std::string what = source + ": setting " + json(it.key()).dump();
    s->set(c, what, texts_of(*s, it.value(), what));
  }
  try {
    check_combination(c);
  } catch (const std::invalid_argument& e) {
    throw UsageError(source + ": " + e.what());
  }
  return c;
}

TrainConfig TrainConfig::load(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    throw UsageError(path + ": is a folder, not a config file (pass the config.json inside it)");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw UsageError(path + ": cannot open the config file");
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw UsageError(path + ": cannot read the config file");
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text.str());
  } catch (const nlohmann::json::exception& e) {
    throw UsageError(path + ": not valid JSON: " + e.what());
  }
  return from_json(j, path);
}

void TrainConfig::validate() const {
  TrainConfig copy = *this;
  for (const TrainSetting& s : train_settings()) s.set(copy, s.flag, s.get(*this));
  check_combination(*this);
}

}  // namespace zg
