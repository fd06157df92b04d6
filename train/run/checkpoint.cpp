#include "zoograd/train/run/checkpoint.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string_view>

#include "zoograd/core/io/serialize.h"

namespace zg {

namespace {
namespace fs = std::filesystem;

constexpr const char* kFormat = "zoograd-checkpoint-1";
constexpr std::string_view kPrefix = "checkpoint-", kSuffix = ".safetensors";

// The epoch in a name "checkpoint-<digits>.safetensors"; nothing for other names (temporary files start with '.').
std::optional<std::int64_t> epoch_of(std::string_view name) {
  if (!name.starts_with(kPrefix) || !name.ends_with(kSuffix)) return std::nullopt;
  std::string_view digits = name.substr(kPrefix.size(), name.size() - kPrefix.size() - kSuffix.size());
  if (digits.empty() || digits.size() > 18 || digits.find_first_not_of("0123456789") != std::string_view::npos)
    return std::nullopt;
  return std::stoll(std::string(digits));
}

void remove_or_warn(const fs::path& path) {
  std::error_code ec;
  if (!fs::remove(path, ec) && ec) spdlog::warn("cannot remove {}: {}", path.string(), ec.message());
}

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
  if (st == Generator::State{}) throw std::runtime_error(path + ": metadata.generator is all zeros, which no generator can use");
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

nlohmann::json meta_json(const SafetensorsFile& f, const std::string& key, const std::string& path) {
  try {
    return nlohmann::json::parse(meta(f, key, path));
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(path + ": metadata." + key + " is not JSON: " + e.what());
  }
}
}  // namespace

std::string save_checkpoint(const std::string& dir, const Module& model, const SGD& optimizer, const Generator& gen,
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
  if (!state.run_id.empty()) m["run"] = state.run_id;
  char epoch[24];
  std::snprintf(epoch, sizeof epoch, "%06" PRId64, state.epoch);
  std::string path = (fs::path(dir) / (std::string(kPrefix) + epoch + std::string(kSuffix))).string();
  save_safetensors(path, tensors, m);
  // Only now that the new file is complete: a crash before this line leaves the older ones.
  std::vector<std::string> all = list_checkpoints(dir);
  for (std::size_t i = 2; i < all.size(); ++i) remove_or_warn(all[i]);
  for (const auto& entry : fs::directory_iterator(dir)) {
    std::string file = entry.path().filename().string();
    if (file.starts_with(".checkpoint-") && file.find(".tmp.") != std::string::npos) remove_or_warn(entry.path());
  }
  return path;
}

std::vector<std::string> list_checkpoints(const std::string& dir) {
  std::vector<std::pair<std::int64_t, std::string>> found;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec))
    if (auto epoch = epoch_of(entry.path().filename().string())) found.emplace_back(*epoch, entry.path().string());
  std::sort(found.rbegin(), found.rend());
  std::vector<std::string> paths;
  for (auto& [epoch, path] : found) paths.push_back(std::move(path));
  return paths;
}

Checkpoint read_checkpoint(const std::string& path) {
  SafetensorsFile f = load_safetensors(path);
  if (!f.checksummed)
    throw std::runtime_error(path + ": no crc32 in the metadata, which every zoograd checkpoint has: damaged, or not a "
                                    "checkpoint");
  if (meta(f, "format", path) != kFormat)
    throw std::runtime_error(path + ": checkpoint format \"" + meta(f, "format", path) + "\", expected " + kFormat);
  Checkpoint c;
  c.path = path;
  for (auto& [name, t] : f.tensors) {
    if (name.starts_with("model.")) c.model.emplace_back(name.substr(6), t);
    else if (name.starts_with("optimizer.")) c.optimizer.emplace_back(name.substr(10), t);
    else throw std::runtime_error(path + ": unexpected tensor \"" + name + "\" in a checkpoint");
  }
  c.generator = parse_generator(meta(f, "generator", path), path);
  c.state.epoch = meta_int(f, "epoch", path);
  c.state.step = meta_int(f, "step", path);
  c.state.metrics = meta_json(f, "metrics", path);
  c.config = meta_json(f, "config", path);
  if (auto run = f.metadata.find("run"); run != f.metadata.end()) c.state.run_id = run->second;
  return c;
}

Checkpoint read_latest_checkpoint(const std::string& dir) {
  std::vector<std::string> paths = list_checkpoints(dir);
  if (paths.empty())
    throw std::invalid_argument("no checkpoint-<epoch>.safetensors in " + dir + "; pass a run folder written by zoograd train");
  std::string reasons;
  for (std::size_t i = 0; i < paths.size(); ++i) {
    try {
      return read_checkpoint(paths[i]);
    } catch (const std::runtime_error& e) {
      if (i + 1 < paths.size()) spdlog::warn("{}; falling back to {}", e.what(), paths[i + 1]);
      reasons += std::string(reasons.empty() ? "" : "; ") + e.what();
    }
  }
  throw std::runtime_error("no checkpoint in " + dir + " loads: " + reasons);
}

TrainingState restore_checkpoint(const Checkpoint& checkpoint, Module& model, SGD& optimizer, Generator& gen) {
  try {
    model.load_state_dict(checkpoint.model);
    optimizer.load_state_dict(checkpoint.optimizer);
    gen.set_state(checkpoint.generator);
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error(checkpoint.path + ": " + e.what());
  }
  return checkpoint.state;
}

}  // namespace zg
