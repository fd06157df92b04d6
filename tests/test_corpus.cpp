// The committed corpus of malformed inputs (tests/corpus/, written by scripts/make_corpus.py; the
// fuzzers' crashes join it): each case through its real reader must throw, naming the file or
// folder at fault and the problem.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "zoograd/core/io/serialize.h"
#include "zoograd/datasets/digits_json.h"
#include "zoograd/datasets/idx.h"
#include "zoograd/datasets/image_folder.h"
#include "zoograd/tests/test_util.h"
#include "zoograd/train/run/config.h"

using namespace zg;
namespace fs = std::filesystem;

namespace {

const fs::path kCorpus = fs::path(ZG_SOURCE_DIR) / "tests" / "corpus";

struct Case {
  std::string reader;
  std::vector<std::string> files, names;  // absolute paths
  std::string expect;
};

std::vector<Case> manifest() {
  std::ifstream in(kCorpus / "manifest.json");
  const nlohmann::json entries = nlohmann::json::parse(in);
  std::vector<Case> cases;
  auto paths = [](const nlohmann::json& list) {
    std::vector<std::string> out;
    for (const auto& p : list) out.push_back((kCorpus / p.get<std::string>()).string());
    return out;
  };
  for (const auto& e : entries) cases.push_back({e.at("reader"), paths(e.at("files")), paths(e.at("names")), e.at("expect")});
  return cases;
}

using Reader = std::function<void(const std::vector<std::string>& files)>;

const std::map<std::string, Reader>& readers() {
  static const std::map<std::string, Reader> table = {
      {"idx-images", [](const auto& f) { read_idx(f.at(0), 2051); }},
      {"idx-labels", [](const auto& f) { read_idx(f.at(0), 2049); }},
      {"idx-pair", [](const auto& f) { load_idx(f.at(0), f.at(1), "corpus"); }},
      {"safetensors", [](const auto& f) { load_safetensors(f.at(0)); }},
      {"digits_json", [](const auto& f) { load_digits_json(f.at(0)); }},
      {"png_folder", [](const auto& f) { load_image_folder(f.at(0)); }},
      {"config", [](const auto& f) { TrainConfig::load(f.at(0)); }},
  };
  return table;
}

}  // namespace

TEST(Corpus, EveryMalformedInputIsRejectedNamingTheFileAndTheProblem) {
  const std::vector<Case> cases = manifest();
  std::map<std::string, int> per_reader;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.files.front());
    ASSERT_TRUE(readers().contains(c.reader)) << c.reader;
    ++per_reader[c.reader];
    for (const std::string& f : c.files) ASSERT_TRUE(fs::exists(f)) << f;
    const std::string message = zg_tests::error_of([&] { readers().at(c.reader)(c.files); });
    ASSERT_FALSE(message.empty()) << "no exception";
    // A lone culprit leads its problem ("path: ..."); a pair's mismatch names both files in a sentence.
    for (const std::string& name : c.names) EXPECT_CONTAINS(message, name + (c.names.size() == 1 ? ": " : ""));
    EXPECT_CONTAINS(message, c.expect);
  }
  EXPECT_GE(cases.size(), 50u);
  for (const auto& [reader, unused] : readers()) EXPECT_GE(per_reader[reader], 3) << reader;
}

TEST(Corpus, EveryFileIsNamedByTheManifest) {
  std::set<fs::path> named;  // files and folders
  for (const Case& c : manifest()) named.insert(c.files.begin(), c.files.end());
  int files = 0;
  for (const auto& entry : fs::recursive_directory_iterator(kCorpus)) {
    if (!entry.is_regular_file() || entry.path().filename() == "manifest.json") continue;
    ++files;
    bool covered = false;
    for (fs::path p = entry.path(); p != kCorpus && !covered; p = p.parent_path()) covered = named.contains(p);
    EXPECT_TRUE(covered) << entry.path() << " is in no case of the manifest";
  }
  EXPECT_GE(files, 50);
}
