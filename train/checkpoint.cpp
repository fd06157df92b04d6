#include "train/checkpoint.h"

#include <cinttypes>
#include <cstdio>
#include <stdexcept>

#include "core/serialize.h"

namespace zg {

namespace {
constexpr const char* kFormat = "zoograd-checkpoint-1";

std::string generator_hex(const Generator& gen) {
  std::string s;
  for (std::uint64_t w : gen.state()) {
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016" PRIx64, w);
    s += buf;
  }
  return s;
}

Generator::State parse_generator(const std::string& hex, const std::string& path) {
  Generator::State st{};
  if (hex.size() != 64) throw std::runtime_error(path + ": metadata.generator must be 64 hex digits");
  for (std::size_t i = 0; i < 4; ++i) {
    std::uint64_t v = 0;
    for (char c : hex.substr(16 * i, 16)) {
      int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
      if (d < 0) throw std::runtime_error(path + ": metadata.generator holds a non-hex digit");
      v = v * 16 + static_cast<std::uint64_t>(d);
    }
    st[i] = v;
  }
  return st;
}

const std::string& meta(const SafetensorsFile& f, const std::string& key, const std::string& path) {
  auto it = f.metadata.find(key);
  if (it == f.metadata.end()) throw std::runtime_error(path + ": not a zoograd checkpoint (metadata." + key + " missing)");
  return it->second;
}

std::int64_t meta_int(const SafetensorsFile& f, const std::string& key, const std::string& path) {
  const std::string& s = meta(f, key, path);
  try {
    std::size_t used = 0;
    long long v = std::stoll(s, &used);
    if (used == s.size() && v >= 0) return v;
  } catch (const std::exception&) {
  }
  throw std::runtime_error(path + ": metadata." + key + " is not a non-negative integer: \"" + s + "\"");
}
}  // namespace

void save_checkpoint(const std::string& path, const Module& model, const SGD& optimizer, const Generator& gen,
                     const TrainingState& state, const nlohmann::json& config) {
  NamedTensors tensors;
  for (auto& [name, t] : model.state_dict()) tensors.emplace_back("model." + name, t);
  for (auto& [name, t] : optimizer.state_dict()) tensors.emplace_back("optimizer." + name, t);
  Metadata m{{"format", kFormat},
             {"epoch", std::to_string(state.epoch)},
             {"step", std::to_string(state.step)},
             {"generator", generator_hex(gen)},
             {"metrics", state.metrics.dump()},
             {"config", config.dump()}};
  save_safetensors(path, tensors, m);
}

TrainingState load_checkpoint(const std::string& path, Module& model, SGD& optimizer, Generator& gen) {
  SafetensorsFile f = load_safetensors(path);
  if (meta(f, "format", path) != kFormat)
    throw std::runtime_error(path + ": checkpoint format \"" + meta(f, "format", path) + "\", expected " + kFormat);
  NamedTensors model_state, optim_state;
  for (auto& [name, t] : f.tensors) {
    if (name.rfind("model.", 0) == 0) model_state.emplace_back(name.substr(6), t);
    else if (name.rfind("optimizer.", 0) == 0) optim_state.emplace_back(name.substr(10), t);
    else throw std::runtime_error(path + ": unexpected tensor \"" + name + "\" in a checkpoint");
  }
  try {
    model.load_state_dict(model_state);
    optimizer.load_state_dict(optim_state);
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error(path + ": " + e.what());
  }
  gen.set_state(parse_generator(meta(f, "generator", path), path));
  TrainingState s;
  s.epoch = meta_int(f, "epoch", path);
  s.step = meta_int(f, "step", path);
  try {
    s.metrics = nlohmann::json::parse(meta(f, "metrics", path));
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(path + ": metadata.metrics is not JSON: " + e.what());
  }
  return s;
}

nlohmann::json checkpoint_config(const std::string& path) {
  SafetensorsFile f = load_safetensors(path);
  try {
    return nlohmann::json::parse(meta(f, "config", path));
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(path + ": metadata.config is not JSON: " + e.what());
  }
}

}  // namespace zg
