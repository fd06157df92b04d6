#pragma once
// The data sets `zoograd` knows by name, where each is looked for, and how to install it.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "zoograd/datasets/dataset.h"

namespace zg {

struct DataSplit {
  Dataset train, test;
};

struct KnownDataset {
  std::string name;          // "mnist", "fashion-mnist", "mnist-digits", "moons", "spirals", "blobs"
  std::string description;
  std::optional<std::string> location;  // where it was found; nullopt when missing (or synthetic)
  std::int64_t bytes = 0;               // on disk, when found
  std::string install;                  // the command that installs it (empty for synthetic sets)
  bool synthetic = false;
};

std::vector<KnownDataset> known_datasets();

// Loads "mnist" (the official 60,000/10,000 split), "fashion-mnist", "mnist-digits", "moons", "spirals",
// "blobs", "idx:TRAIN_IMAGES,TRAIN_LABELS,TEST_IMAGES,TEST_LABELS" or "folder:PATH" (split 80/20
// stratified). mnist-digits is split 80/20 stratified with the seed;
// the synthetic sets draw train, then test, from Generator(seed). An idx: set has one class more
// than its largest label. Logs one line per load. Throws naming the spec and, for a missing set,
// the folder looked in and the install command.
DataSplit load_dataset(const std::string& spec, std::uint64_t seed);

// The folder where set-up installs npm data (ZOOGRAD_DATA_DIR, else $XDG_CACHE_HOME/zoograd, else ~/.cache/zoograd).
std::string data_cache_dir();

}  // namespace zg
