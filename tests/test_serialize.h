#pragma once
// The helpers shared by tests/test_serialize.cpp and tests/test_serialize_malformed.cpp.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "zoograd/core/ops.h"
#include "zoograd/core/io/serialize.h"
#include "zoograd/tests/test_util.h"

using namespace zg;
namespace fs = std::filesystem;

namespace {

using zg_tests::error_of;
using zg_tests::TempDir;

inline std::vector<std::string> listing(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

inline std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

inline void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

inline std::string le64(std::uint64_t v) {
  std::string out(8, '\0');
  for (std::size_t i = 0; i < 8; ++i) out[i] = static_cast<char>((v >> (8 * i)) & 0xff);
  return out;
}

inline std::uint64_t read_le64(const std::string& bytes) {
  std::uint64_t v = 0;
  for (std::size_t i = 8; i-- > 0;) v = (v << 8) | static_cast<unsigned char>(bytes[i]);
  return v;
}

inline std::string raw(const Tensor& t) {
  return std::string(static_cast<const char*>(t.impl().storage->data),
                     static_cast<std::size_t>(t.numel()) * dtype_size(t.dtype()));
}

template <class T>
inline std::string raw_of(std::initializer_list<T> values) {
  std::string out;
  for (T v : values) out.append(reinterpret_cast<const char*>(&v), sizeof(T));
  return out;
}

inline std::string with_crc(std::string file) {
  std::size_t at = file.find(R"("crc32":"00000000")");
  EXPECT_NE(at, std::string::npos);
  uLong crc = crc32(0, reinterpret_cast<const Bytef*>(file.data()), static_cast<uInt>(file.size()));
  char hex[9];
  std::snprintf(hex, sizeof hex, "%08lx", crc);
  return file.replace(at + 9, 8, hex);
}

inline std::string st_file(const std::string& header, const std::string& data = "",
                    std::optional<std::uint64_t> length = std::nullopt) {
  return le64(length.value_or(header.size())) + header + data;
}

inline std::string parse_error(const std::string& bytes) {
  try {
    parse_safetensors(bytes, "bad.safetensors");
  } catch (const std::runtime_error& e) {
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "not a std::runtime_error: " << e.what();
    return e.what();
  }
  return "";
}

#define EXPECT_REFUSED(bytes, problem)                           \
  do {                                                           \
    std::string message_ = parse_error(bytes);                   \
    EXPECT_FALSE(message_.empty()) << "accepted";                \
    EXPECT_CONTAINS(message_, "bad.safetensors");                \
    EXPECT_CONTAINS(message_, problem);                          \
  } while (0)

// A varied state_dict: special values, every dtype, a scalar and two empty tensors, in an order
// that is not alphabetical (and "10" before "2", which a sorted map would swap).
inline NamedTensors sample_tensors() {
  const float f[] = {1.5f,
                     -0.0f,
                     std::numeric_limits<float>::denorm_min(),
                     std::numeric_limits<float>::max(),
                     -std::numeric_limits<float>::infinity(),
                     std::bit_cast<float>(std::uint32_t{0x7fc12345})};  // NaN with a payload
  const double d[] = {0.1, -0.0, 1e-310};
  const std::int64_t l[] = {std::numeric_limits<std::int64_t>::min(), -1, 0, std::numeric_limits<std::int64_t>::max()};
  return {
      {"z.weight", from_data<float>(std::span<const float>(f), {2, 3})},
      {"10.bias", from_data<double>(std::span<const double>(d), {3})},
      {"2.labels", from_data<std::int64_t>(std::span<const std::int64_t>(l), {4})},
      {"step", scalar(3.5, DType::Float64)},
      {"empty", zeros({0})},
      {"a.last", tensor({7, -8}, {2, 1}, DType::Float32)},
      {"empty.2d", zeros({2, 0}, DType::Float64)},
  };
}

inline void expect_same(const NamedTensors& got, const NamedTensors& want) {
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t i = 0; i < want.size(); ++i) {
    SCOPED_TRACE(want[i].first);
    EXPECT_EQ(got[i].first, want[i].first);  // names, in order
    EXPECT_EQ(got[i].second.dtype(), want[i].second.dtype());
    EXPECT_EQ(got[i].second.shape(), want[i].second.shape());
    EXPECT_EQ(raw(got[i].second), raw(want[i].second));  // bit for bit
  }
}

}  // namespace

// ---- round trips ----
