#pragma once
// The settings of a `zoograd train` run: parsed from flags, optionally seeded from a config file,
// written to the run folder as config.json (replayable with --config).
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "zoograd/core/dtype.h"

namespace zg {

struct TrainConfig {
  std::string data = "fashion-mnist";
  std::string model = "mlp";                      // mlp | cnn
  std::vector<std::int64_t> hidden = {512, 256};  // mlp hidden layer widths
  std::string loss = "cross_entropy";               // a classification loss of the catalog
  std::map<std::string, double> loss_params;        // --set key=value; missing ones take the defaults
  std::int64_t embedding_dim = 64;                  // feature width before the head of an angular loss
  std::int64_t epochs = 10;
  std::int64_t batch_size = 128;
  double lr = 0.1;
  double momentum = 0.9;
  double weight_decay = 0.0;
  std::string schedule = "constant";
  std::uint64_t seed = 0;
  std::string dtype = "float32";  // float32 | float64: parameters, buffers, batches, loss, gradients, checkpoints
  std::int64_t threads = 0;  // threads of the pool (zg::set_num_threads); 0 keeps OPENBLAS_NUM_THREADS or the cores
  std::string out;           // run folder; empty picks runs/<data>-<model>[-N]
  bool quiet = false;
  bool detect_anomaly = false;  // every op checks its output for NaN/Inf (slow; finds where a divergence starts)

  // dtype as the tensors' DType.
  DType tensor_dtype() const { return dtype == "float64" ? DType::Float64 : DType::Float32; }

  nlohmann::json to_json() const;
  // Strict: unknown keys, wrong types and values validate() refuses throw naming the key and `source`.
  static TrainConfig from_json(const nlohmann::json& j, const std::string& source);
  static TrainConfig load(const std::string& path);
  // Throws std::invalid_argument naming the flag, the bad value and the accepted range: every
  // field passes the same door (train/run/values.h) as a flag's text or a config file's value.
  void validate() const;
};

// One setting of TrainConfig: its config key, its flag, and how values set it. A flag's texts and
// a config file's values (as text: a JSON number as written) pass through the same `set`, so the
// two are checked alike; `get` gives a field back as the texts that would set it.
struct TrainSetting {
  enum class Form { Text, Number, Switch, List, Params };
  std::string key;   // "batch_size"
  std::string flag;  // "--batch-size"
  Form form;
  std::string help;
  std::function<void(TrainConfig&, const std::string& what, const std::vector<std::string>& texts)> set;
  std::function<std::vector<std::string>(const TrainConfig&)> get;
};

// Every setting, in the order of TrainConfig's fields.
const std::vector<TrainSetting>& train_settings();

}  // namespace zg
