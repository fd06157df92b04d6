#pragma once
// Helpers shared by the test files.
#include <gtest/gtest.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

#include "zoograd/core/generator.h"
#include "zoograd/core/tensor.h"

namespace zg_tests {

// The what() of the exception f throws, or "" when it throws none.
template <class F>
std::string error_of(F f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

// Every element of every tensor, in order, as doubles.
inline std::vector<double> values_of(const zg::NamedTensors& tensors) {
  std::vector<double> v;
  for (const auto& [name, t] : tensors) {
    std::vector<double> x = t.to_vector();
    v.insert(v.end(), x.begin(), x.end());
  }
  return v;
}

// A file's bytes ("" when it cannot be read).
inline std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// A fresh folder under the system temp folder, removed with its contents when it goes out of scope.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "zoograd-test-XXXXXX").string();
    if (!::mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed for " + pattern);
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::string operator/(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

// An IDX file of unsigned bytes with the given dimensions.
inline void write_idx(const std::string& path, const std::vector<std::uint8_t>& data, const std::vector<std::uint32_t>& dims) {
  std::ofstream out(path, std::ios::binary);
  out.put(0), out.put(0), out.put(8), out.put(static_cast<char>(dims.size()));
  for (std::uint32_t d : dims)
    for (int shift : {24, 16, 8, 0}) out.put(static_cast<char>((d >> shift) & 0xff));
  out.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
}

// Three classes of noisy 16x16 strokes (a horizontal bar, a vertical bar, a diagonal) as IDX
// files in dir; returns the idx: data spec.
inline std::string stroke_images(const std::filesystem::path& dir, std::uint32_t train, std::uint32_t test) {
  zg::Generator gen(3);
  auto split = [&](const std::string& name, std::uint32_t n) {
    std::vector<std::uint8_t> images, labels;
    for (std::uint32_t k = 0; k < n; ++k) {
      auto cls = static_cast<std::uint8_t>(k % 3);
      int offset = static_cast<int>(gen.below(8)) + 4;
      for (int y = 0; y < 16; ++y)
        for (int x = 0; x < 16; ++x) {
          bool on = cls == 0 ? std::abs(y - offset) <= 1 : cls == 1 ? std::abs(x - offset) <= 1 : std::abs(x - y) <= 1;
          images.push_back(static_cast<std::uint8_t>(std::min(255.0, (on ? 200 : 0) + 50 * gen.uniform())));
        }
      labels.push_back(cls);
    }
    write_idx((dir / (name + "-images")).string(), images, {n, 16, 16});
    write_idx((dir / (name + "-labels")).string(), labels, {n});
    return (dir / (name + "-images")).string() + "," + (dir / (name + "-labels")).string();
  };
  std::string train_files = split("train", train);
  return "idx:" + train_files + "," + split("test", test);
}

#ifdef ZG_CLI_PATH
struct CliRun {
  int code;
  std::string out;  // stdout and stderr together
};

// Runs the zoograd program with args (a shell command line's tail).
inline CliRun run_cli(const std::string& args) {
  std::string cmd = std::string(ZG_CLI_PATH) + " " + args + " 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  CliRun r{-1, ""};
  std::array<char, 4096> buf{};
  while (std::fgets(buf.data(), buf.size(), p)) r.out += buf.data();
  int status = ::pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}
#endif

}  // namespace zg_tests

// Checks that text contains part, printing both when it does not.
#define EXPECT_CONTAINS(text, part) \
  EXPECT_NE(std::string(text).find(part), std::string::npos) << "\"" << (text) << "\" lacks \"" << (part) << "\""
