// safetensors: bit-exact round trips, the byte layout of the spec read back from the file, atomic
// writes (no temporary left behind, an existing file replaced only by a complete one), and
// malformed inputs built byte by byte, each of which must be refused with the file's name and
// the problem.
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

#include "core/ops.h"
#include "core/serialize.h"
#include "tests/test_util.h"

using namespace zg;
namespace fs = std::filesystem;

namespace {

using zg_tests::error_of;
using zg_tests::TempDir;

std::vector<std::string> listing(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string le64(std::uint64_t v) {
  std::string out(8, '\0');
  for (std::size_t i = 0; i < 8; ++i) out[i] = static_cast<char>((v >> (8 * i)) & 0xff);
  return out;
}

std::uint64_t read_le64(const std::string& bytes) {
  std::uint64_t v = 0;
  for (std::size_t i = 8; i-- > 0;) v = (v << 8) | static_cast<unsigned char>(bytes[i]);
  return v;
}

// The raw bytes of a tensor's values (for bit-exact comparisons, NaN payloads and -0 included).
std::string raw(const Tensor& t) {
  return std::string(static_cast<const char*>(t.impl().storage->data),
                     static_cast<std::size_t>(t.numel()) * dtype_size(t.dtype()));
}

template <class T>
std::string raw_of(std::initializer_list<T> values) {
  std::string out;
  for (T v : values) out.append(reinterpret_cast<const char*>(&v), sizeof(T));
  return out;
}

// The file with the digits of its "crc32":"00000000" filled in, computed here independently of the
// library: zlib's CRC-32 of the whole file as it stands (with the zeros).
std::string with_crc(std::string file) {
  std::size_t at = file.find(R"("crc32":"00000000")");
  EXPECT_NE(at, std::string::npos);
  uLong crc = crc32(0, reinterpret_cast<const Bytef*>(file.data()), static_cast<uInt>(file.size()));
  char hex[9];
  std::snprintf(hex, sizeof hex, "%08lx", crc);
  return file.replace(at + 9, 8, hex);
}

// A safetensors file: the 8-byte length (the header's unless given), the header, the data.
std::string st_file(const std::string& header, const std::string& data = "",
                    std::optional<std::uint64_t> length = std::nullopt) {
  return le64(length.value_or(header.size())) + header + data;
}

// The message of the std::runtime_error parse_safetensors throws ("" when it accepts the bytes).
std::string parse_error(const std::string& bytes) {
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
NamedTensors sample_tensors() {
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

void expect_same(const NamedTensors& got, const NamedTensors& want) {
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

TEST(Safetensors, RoundTripIsBitExact) {
  TempDir dir;
  std::string path = dir / "model.safetensors";
  NamedTensors tensors = sample_tensors();
  Metadata metadata = {{"format", "pt"}, {"epoch", "7"}, {"note", "\xce\xb1\xce\xb2 \"quoted\"\n\\"}};
  save_safetensors(path, tensors, metadata);
  SafetensorsFile back = load_safetensors(path);
  expect_same(back.tensors, tensors);
  EXPECT_EQ(back.metadata, metadata);

  // The loaded tensors own their storage.
  EXPECT_NE(back.tensors[0].second.impl().storage.get(), tensors[0].second.impl().storage.get());
  EXPECT_EQ(back.tensors[3].second.item(), 3.5);
  EXPECT_EQ(back.tensors[1].second.data<double>()[0], 0.1);
  EXPECT_TRUE(std::signbit(back.tensors[1].second.data<double>()[1]));
  EXPECT_EQ(std::bit_cast<std::uint32_t>(back.tensors[0].second.data<float>()[5]), 0x7fc12345u);

  // The same through parse_safetensors over the file's bytes.
  SafetensorsFile parsed = parse_safetensors(read_bytes(path), "mem");
  expect_same(parsed.tensors, tensors);
  EXPECT_EQ(parsed.metadata, metadata);
}

TEST(Safetensors, RoundTripWithoutTensorsOrMetadata) {
  TempDir dir;
  std::string path = dir / "empty.safetensors";
  save_safetensors(path, {});
  std::string bytes = read_bytes(path);
  EXPECT_EQ(bytes, with_crc(le64(40) + R"({"__metadata__":{"crc32":"00000000"}})" + "   "));
  SafetensorsFile back = load_safetensors(path);
  EXPECT_TRUE(back.tensors.empty());
  EXPECT_TRUE(back.metadata.empty());

  save_safetensors(path, {}, {{"k", "v"}});
  back = load_safetensors(path);
  EXPECT_TRUE(back.tensors.empty());
  EXPECT_EQ(back.metadata, (Metadata{{"k", "v"}}));
}

TEST(Safetensors, SaveRejectsDuplicateAndReservedNames) {
  TempDir dir;
  std::string path = dir / "m.safetensors";
  try {
    save_safetensors(path, {{"w", zeros({1})}, {"w", zeros({2})}});
    ADD_FAILURE() << "accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_CONTAINS(e.what(), "\"w\"");
  }
  EXPECT_THROW(save_safetensors(path, {{"__metadata__", zeros({1})}}), std::invalid_argument);
  EXPECT_CONTAINS(error_of([&] { save_safetensors(path, {}, {{"crc32", "0"}}); }), "metadata key \"crc32\" is reserved");
  EXPECT_TRUE(listing(dir.path()).empty());
}

// ---- the byte layout ----

TEST(Safetensors, ByteLayoutOfASmallFile) {
  TempDir dir;
  std::string path = dir / "x.safetensors";
  save_safetensors(path, {{"x", tensor({1.0}, {1})}});
  const std::string json =
      R"({"__metadata__":{"crc32":"00000000"},"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})";
  std::string header = json + std::string((8 - json.size() % 8) % 8, ' ');
  ASSERT_EQ(header.size(), 96u);
  EXPECT_EQ(read_bytes(path), with_crc(le64(96) + header + std::string("\x00\x00\x80\x3f", 4)));
}

TEST(Safetensors, ByteLayoutFollowsTheSpec) {
  TempDir dir;
  std::string path = dir / "model.safetensors";
  NamedTensors tensors = sample_tensors();
  save_safetensors(path, tensors, {{"format", "pt"}});
  std::string bytes = read_bytes(path);
  ASSERT_GE(bytes.size(), 8u);

  // First 8 bytes: the header's length, little-endian; the data starts 8-byte aligned.
  std::uint64_t n = read_le64(bytes);
  ASSERT_LE(8 + n, bytes.size());
  EXPECT_EQ(n % 8, 0u);
  std::string header = bytes.substr(8, n);
  ASSERT_FALSE(header.empty());
  EXPECT_EQ(header[0], '{');
  // The JSON ends at the last '}'; only spaces pad it.
  std::size_t close = header.find_last_of('}');
  ASSERT_NE(close, std::string::npos);
  EXPECT_LT(header.size() - close - 1, 8u);
  EXPECT_EQ(header.substr(close + 1), std::string(header.size() - close - 1, ' '));

  nlohmann::ordered_json j = nlohmann::ordered_json::parse(header);
  ASSERT_TRUE(j.is_object());
  std::vector<std::string> keys;
  for (auto it = j.begin(); it != j.end(); ++it) keys.push_back(it.key());
  ASSERT_EQ(keys.size(), tensors.size() + 1);
  EXPECT_EQ(keys[0], "__metadata__");
  // Plain string metadata, which any safetensors reader takes; the crc32 over the whole file comes first.
  EXPECT_EQ(j["__metadata__"].begin().key(), "crc32");
  std::string crc = j["__metadata__"]["crc32"];
  j["__metadata__"].erase("crc32");
  EXPECT_EQ(j["__metadata__"], (nlohmann::ordered_json{{"format", "pt"}}));
  std::string zeroed = bytes;
  EXPECT_EQ(with_crc(zeroed.replace(bytes.find(crc), 8, "00000000")), bytes);

  // Data offsets are contiguous in tensor order, start at 0 and end at the end of the file.
  const std::string data = bytes.substr(8 + n);
  std::uint64_t expected_begin = 0;
  const char* dtypes[] = {"F32", "F64", "I64"};
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    const auto& [name, t] = tensors[i];
    SCOPED_TRACE(name);
    EXPECT_EQ(keys[i + 1], name);
    const auto& entry = j[name];
    EXPECT_EQ(entry["dtype"], dtypes[static_cast<int>(t.dtype())]);
    EXPECT_EQ(entry["shape"].get<std::vector<std::int64_t>>(), t.shape());
    ASSERT_TRUE(entry["data_offsets"].is_array());
    ASSERT_EQ(entry["data_offsets"].size(), 2u);
    auto begin = entry["data_offsets"][0].get<std::uint64_t>(), end = entry["data_offsets"][1].get<std::uint64_t>();
    EXPECT_EQ(begin, expected_begin);
    EXPECT_EQ(end - begin, static_cast<std::uint64_t>(t.numel()) * dtype_size(t.dtype()));
    EXPECT_EQ(data.substr(begin, end - begin), raw(t));  // little-endian values, as in memory on x86/ARM
    expected_begin = end;
  }
  EXPECT_EQ(expected_begin, data.size());
  EXPECT_EQ(j["step"]["shape"], nlohmann::ordered_json::array());  // a scalar's shape is []
}

// ---- atomic writes ----

TEST(Safetensors, NoTemporaryFileRemains) {
  TempDir dir;
  std::string path = dir / "model.safetensors";
  for (int i = 0; i < 3; ++i) save_safetensors(path, {{"w", full({4}, i)}});
  EXPECT_EQ(listing(dir.path()), (std::vector<std::string>{"model.safetensors"}));
  EXPECT_EQ(load_safetensors(path).tensors[0].second.to_vector(), (std::vector<double>{2, 2, 2, 2}));

  // A relative path (no folder part) writes into the current folder, also without leftovers.
  fs::path cwd = fs::current_path();
  fs::current_path(dir.path());
  save_safetensors("relative.safetensors", {{"w", ones({2})}});
  fs::current_path(cwd);
  EXPECT_EQ(listing(dir.path()), (std::vector<std::string>{"model.safetensors", "relative.safetensors"}));
}

TEST(Safetensors, MissingFolderThrowsNamingThePath) {
  TempDir dir;
  std::string path = dir / "no/such/folder/model.safetensors";
  try {
    save_safetensors(path, {{"w", ones({2})}});
    ADD_FAILURE() << "accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_CONTAINS(e.what(), path);
  }
  EXPECT_FALSE(fs::exists(dir.path() / "no"));
  EXPECT_TRUE(listing(dir.path()).empty());

  try {
    load_safetensors(path);
    ADD_FAILURE() << "accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_CONTAINS(e.what(), path);
    EXPECT_CONTAINS(e.what(), "cannot open");
  }
}

TEST(Safetensors, ExistingFileIsReplacedByACompleteNewOne) {
  TempDir dir;
  std::string path = dir / "model.safetensors", link = dir / "old.link";
  save_safetensors(path, {{"w", full({1000}, 1.0)}});
  const std::string old_bytes = read_bytes(path);
  // A second name for the old file: if the new file were written in place, this would change too.
  fs::create_hard_link(path, link);

  save_safetensors(path, {{"v", full({3}, 2.0, DType::Float64)}}, {{"epoch", "2"}});
  SafetensorsFile now = load_safetensors(path);
  ASSERT_EQ(now.tensors.size(), 1u);
  EXPECT_EQ(now.tensors[0].first, "v");
  EXPECT_EQ(now.tensors[0].second.to_vector(), (std::vector<double>{2, 2, 2}));
  EXPECT_EQ(read_bytes(link), old_bytes);  // the old file is intact, only unlinked from its name
  struct stat a{}, b{};
  ASSERT_EQ(::stat(path.c_str(), &a), 0);
  ASSERT_EQ(::stat(link.c_str(), &b), 0);
  EXPECT_NE(a.st_ino, b.st_ino);
  EXPECT_EQ(listing(dir.path()), (std::vector<std::string>{"model.safetensors", "old.link"}));
}

TEST(Safetensors, FailedSaveLeavesTheExistingFileUntouched) {
  TempDir dir;
  std::string path = dir / "model.safetensors";
  save_safetensors(path, {{"w", full({8}, 1.0)}});
  const std::string old_bytes = read_bytes(path);

  // Refused before anything is written.
  EXPECT_THROW(save_safetensors(path, {{"a", ones({1})}, {"a", ones({1})}}), std::invalid_argument);
  EXPECT_EQ(read_bytes(path), old_bytes);
  EXPECT_EQ(listing(dir.path()), (std::vector<std::string>{"model.safetensors"}));

  // A write that fails half-way: a file-size limit of 64 KiB against 400 KB of data (EFBIG).
  rlimit old_limit{};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &old_limit), 0);
  Tensor big = full({100000}, 3.0);
  std::string message;
  {
    struct sigaction ignore{}, previous{};
    ignore.sa_handler = SIG_IGN;
    ASSERT_EQ(::sigaction(SIGXFSZ, &ignore, &previous), 0);
    rlimit small = old_limit;
    small.rlim_cur = 64 * 1024;
    ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &small), 0);
    try {
      save_safetensors(path, {{"big", big}});
    } catch (const std::runtime_error& e) {
      message = e.what();
    }
    ::setrlimit(RLIMIT_FSIZE, &old_limit);
    ::sigaction(SIGXFSZ, &previous, nullptr);
  }
  ASSERT_FALSE(message.empty()) << "the save succeeded despite the limit";
  EXPECT_CONTAINS(message, path);
  EXPECT_CONTAINS(message, "write");
  EXPECT_EQ(read_bytes(path), old_bytes);
  EXPECT_EQ(listing(dir.path()), (std::vector<std::string>{"model.safetensors"}));

  // The rename fails: the target is a non-empty folder. The temporary file is removed.
  std::string folder = dir / "folder.safetensors";
  fs::create_directory(folder);
  write_bytes(folder + "/keep", "x");
  try {
    save_safetensors(folder, {{"w", ones({2})}});
    ADD_FAILURE() << "accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_CONTAINS(e.what(), folder);
    EXPECT_CONTAINS(e.what(), "rename");
  }
  EXPECT_EQ(listing(dir.path()), (std::vector<std::string>{"folder.safetensors", "model.safetensors"}));
  EXPECT_EQ(listing(folder), (std::vector<std::string>{"keep"}));
}

// ---- the crc32 ----

TEST(Safetensors, CrcCatchesEverySingleByteFlip) {
  TempDir dir;
  std::string path = dir / "model.safetensors";
  save_safetensors(path, sample_tensors(), {{"format", "pt"}});
  const std::string bytes = read_bytes(path);
  ASSERT_TRUE(parse_safetensors(bytes, "good").checksummed);
  // A flip in the key's 5 letters can leave valid JSON without a crc32 ("brc32"), which is what a
  // file of another tool looks like; a checkpoint reader requires the crc32 and refuses those.
  const std::size_t key = bytes.find(R"("crc32")") + 1;
  std::size_t caught = 0, renamed = 0;
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    for (int mask : {0x01, 0xff}) {
      std::string damaged = bytes;
      damaged[i] = static_cast<char>(damaged[i] ^ mask);
      std::optional<SafetensorsFile> f;
      if (parse_error(damaged).empty()) f = parse_safetensors(damaged, "bad.safetensors");
      if (!f) ++caught;
      else if (i >= key && i < key + 5 && !f->checksummed) ++renamed;
      else ADD_FAILURE() << "flip " << mask << " at byte " << i << " accepted";
    }
  }
  EXPECT_EQ(caught + renamed, 2 * bytes.size());
  EXPECT_LE(renamed, 10u);
}

TEST(Safetensors, CrcMismatchNamesTheFileAndBothValues) {
  TempDir dir;
  std::string path = dir / "model.safetensors";
  save_safetensors(path, {{"w", full({4}, 1.0)}});
  std::string bytes = read_bytes(path);
  std::string stored = nlohmann::json::parse(bytes.substr(8, read_le64(bytes)))["__metadata__"]["crc32"];
  bytes.back() = static_cast<char>(bytes.back() ^ 0x40);
  write_bytes(path, bytes);
  std::string message = error_of([&] { load_safetensors(path); });
  EXPECT_TRUE(message.starts_with(path + ": CRC32 mismatch (stored " + stored + ", computed ")) << message;
  EXPECT_TRUE(message.ends_with("): the file is damaged")) << message;
}

TEST(Safetensors, FindsTheCrcAnywhereInTheMetadata) {
  std::string header = R"({"__metadata__":{"format":"pt","crc32":"00000000"},"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})";
  SafetensorsFile f = parse_safetensors(with_crc(st_file(header, raw_of<float>({2.5f}))), "moved");
  EXPECT_TRUE(f.checksummed);
  EXPECT_EQ(f.metadata, (Metadata{{"format", "pt"}}));
  EXPECT_EQ(f.tensors[0].second.item(), 2.5);
}

TEST(Safetensors, RefusesAMalformedCrc) {
  for (const char* crc : {R"("0000000")", R"("000000000")", R"("ABCDEF01")", R"("0000000g")", "12345678", "null"}) {
    SCOPED_TRACE(crc);
    EXPECT_REFUSED(st_file(std::string(R"({"__metadata__":{"crc32":)") + crc + "}}"), "__metadata__.crc32");
  }
  // Valid JSON, but not in the form the digits are found by.
  EXPECT_REFUSED(st_file(R"({"__metadata__":{"crc32" : "00000000"}})"), "__metadata__.crc32");
}

// ---- valid files written by hand ----

TEST(Safetensors, ParsesHandWrittenFiles) {
  // Header order differs from data order; the tensors come back in header order.
  std::string header = R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[8,12]},)"
                       R"("b":{"dtype":"I64","shape":[],"data_offsets":[0,8]}})";
  std::string data = raw_of<std::int64_t>({-5}) + raw_of<float>({0.25f});
  SafetensorsFile f = parse_safetensors(st_file(header, data), "hand.safetensors");
  EXPECT_FALSE(f.checksummed);  // files of other tools have no crc32 and load all the same
  ASSERT_EQ(f.tensors.size(), 2u);
  EXPECT_EQ(f.tensors[0].first, "w");
  EXPECT_EQ(f.tensors[0].second.to_vector(), (std::vector<double>{0.25}));
  EXPECT_EQ(f.tensors[1].first, "b");
  EXPECT_EQ(f.tensors[1].second.shape(), Shape{});
  EXPECT_EQ(f.tensors[1].second.data<std::int64_t>()[0], -5);

  // An empty tensor sharing its offset with the next tensor's start is no overlap, whatever the order.
  for (const std::string& h :
       {std::string(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                    R"("b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]},)"
                    R"("e":{"dtype":"F64","shape":[0,3],"data_offsets":[4,4]}})"),
        std::string(R"({"e":{"dtype":"F64","shape":[0,3],"data_offsets":[4,4]},)"
                    R"("b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]},)"
                    R"("a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})")}) {
    SafetensorsFile g = parse_safetensors(st_file(h, raw_of<float>({1, 2})), "empty.safetensors");
    ASSERT_EQ(g.tensors.size(), 3u);
    for (const auto& [name, t] : g.tensors) {
      if (name == "e") {
        EXPECT_EQ(t.shape(), (Shape{0, 3}));
      }
    }
  }

  // No padding, no tensors: the smallest valid file; whitespace inside the header is fine.
  EXPECT_TRUE(parse_safetensors(st_file("{}"), "min").tensors.empty());
  EXPECT_TRUE(parse_safetensors(st_file("{ \"__metadata__\" : { } }\n"), "ws").metadata.empty());
}

// ---- malformed files ----

TEST(Safetensors, RefusesTooShortFiles) {
  EXPECT_REFUSED(std::string(""), "too short");
  EXPECT_REFUSED(std::string("\x02\x00\x00", 3), "too short");
  EXPECT_REFUSED(std::string(7, '\0'), "too short");
}

TEST(Safetensors, RefusesHeaderLengthBeyondTheFile) {
  EXPECT_REFUSED(st_file("{}", "", 1000), "past the end");
  EXPECT_REFUSED(st_file("{}", "", 3), "past the end");
  EXPECT_REFUSED(le64(1), "past the end");
}

TEST(Safetensors, RefusesHeaderLongerThan100MB) {
  EXPECT_REFUSED(st_file("{}", "", 100'000'001), "100 MB");
  EXPECT_REFUSED(st_file("{}", "", std::numeric_limits<std::uint64_t>::max()), "100 MB");
  // A 2^63 length would wrap a signed size; it is refused all the same.
  EXPECT_REFUSED(st_file("{}", "", std::uint64_t{1} << 63), "100 MB");
}

TEST(Safetensors, RefusesHeaderNotStartingWithBrace) {
  EXPECT_REFUSED(st_file("[]"), "does not start with '{'");
  EXPECT_REFUSED(st_file(" {}"), "does not start with '{'");
  EXPECT_REFUSED(st_file(""), "does not start with '{'");
  EXPECT_REFUSED(st_file("\"{}\""), "does not start with '{'");
}

TEST(Safetensors, RefusesInvalidJson) {
  EXPECT_REFUSED(st_file(R"({"a": })"), "not valid JSON");
  EXPECT_REFUSED(st_file("{"), "not valid JSON");
  EXPECT_REFUSED(st_file(R"({"a":1} x)"), "not valid JSON");
  EXPECT_REFUSED(st_file(std::string("{}\0\0\0\0\0\0", 8)), "not valid JSON");  // NUL padding is not the spec's
  EXPECT_REFUSED(st_file(std::string("{}\0{\"x\":[", 8)), "not valid JSON");  // nor anything after a NUL
  EXPECT_REFUSED(st_file(std::string("{\"a\0\":1}", 8)), "not valid JSON");
}

TEST(Safetensors, RefusesDuplicateNames) {
  std::string entry = R"({"dtype":"F32","shape":[1],"data_offsets":[0,4]})";
  std::string message = parse_error(st_file("{\"w\":" + entry + ",\"w\":" + entry + "}", raw_of<float>({1})));
  EXPECT_CONTAINS(message, "bad.safetensors");
  EXPECT_CONTAINS(message, "\"w\"");
  EXPECT_CONTAINS(message, "twice");
}

TEST(Safetensors, RefusesUnknownDtype) {
  for (const char* dt : {"BF16", "F16", "I32", "U8", "BOOL", "f32"}) {
    SCOPED_TRACE(dt);
    std::string h = std::string(R"({"w":{"dtype":")") + dt + R"(","shape":[2],"data_offsets":[0,4]}})";
    std::string message = parse_error(st_file(h, std::string(4, '\0')));
    EXPECT_CONTAINS(message, "bad.safetensors");
    EXPECT_CONTAINS(message, "unsupported dtype");
    EXPECT_CONTAINS(message, std::string("\"") + dt + "\"");
    EXPECT_CONTAINS(message, "\"w\"");
  }
  EXPECT_REFUSED(st_file(R"({"w":{"dtype":32,"shape":[1],"data_offsets":[0,4]}})", std::string(4, '\0')),
                 "dtype is not a string");
}

TEST(Safetensors, RefusesBadShapes) {
  for (const char* shape : {"[-1]", "[2,-3]", "[1.5]", "[2.0]", "[\"2\"]", "[null]", "[[2]]", "[true]"}) {
    SCOPED_TRACE(shape);
    std::string h = std::string(R"({"w":{"dtype":"F32","shape":)") + shape + R"(,"data_offsets":[0,8]}})";
    std::string message = parse_error(st_file(h, std::string(8, '\0')));
    EXPECT_CONTAINS(message, "bad.safetensors");
    EXPECT_CONTAINS(message, "shape");
    EXPECT_CONTAINS(message, "non-negative integer");
    EXPECT_CONTAINS(message, "\"w\"");
  }
  EXPECT_REFUSED(st_file(R"({"w":{"dtype":"F32","shape":2,"data_offsets":[0,8]}})", std::string(8, '\0')),
                 "shape is not an array");
  EXPECT_REFUSED(
      st_file(R"({"w":{"dtype":"F32","shape":[1099511627776,1099511627776],"data_offsets":[0,8]}})", std::string(8, '\0')),
      "too large");
}

TEST(Safetensors, RefusesDataOffsetsThatAreNotTwoIntegers) {
  for (const char* off : {"[0]", "[0,4,8]", "[]", "[\"0\",\"4\"]", "[-4,0]", "[0,4.0]", "[0,null]", "{\"0\":4}", "4"}) {
    SCOPED_TRACE(off);
    std::string h = std::string(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":)") + off + "}}";
    std::string message = parse_error(st_file(h, std::string(4, '\0')));
    EXPECT_CONTAINS(message, "bad.safetensors");
    EXPECT_CONTAINS(message, "data_offsets must be two non-negative integers");
    EXPECT_CONTAINS(message, "\"w\"");
  }
}

TEST(Safetensors, RefusesOffsetsOutsideTheData) {
  EXPECT_REFUSED(st_file(R"({"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", std::string(8, '\0')),
                 "outside the data section of 8 bytes");
  EXPECT_REFUSED(st_file(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[8,4]}})", std::string(8, '\0')),
                 "outside");
  EXPECT_REFUSED(
      st_file(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[18446744073709551612,18446744073709551615]}})",
              std::string(8, '\0')),
      "outside");
}

TEST(Safetensors, RefusesOffsetsNotMatchingTheShape) {
  std::string message =
      parse_error(st_file(R"({"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", std::string(8, '\0')));
  EXPECT_CONTAINS(message, "bad.safetensors");
  EXPECT_CONTAINS(message, "\"w\"");
  EXPECT_CONTAINS(message, "span 8 bytes");
  EXPECT_CONTAINS(message, "needs 12");
  EXPECT_REFUSED(st_file(R"({"w":{"dtype":"F64","shape":[],"data_offsets":[0,4]}})", std::string(4, '\0')),
                 "needs 8");
  EXPECT_REFUSED(st_file(R"({"w":{"dtype":"I64","shape":[0],"data_offsets":[0,8]}})", std::string(8, '\0')),
                 "needs 0");
}

TEST(Safetensors, RefusesOverlappingTensors) {
  std::string h = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                  R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})";
  std::string message = parse_error(st_file(h, std::string(12, '\0')));
  EXPECT_CONTAINS(message, "bad.safetensors");
  EXPECT_CONTAINS(message, "overlaps");
  EXPECT_CONTAINS(message, "\"b\"");
  // Two names for the same bytes.
  h = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
      R"("b":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  EXPECT_REFUSED(st_file(h, std::string(8, '\0')), "overlaps");
}

TEST(Safetensors, OverlapsAreRefusedBeforeAllocating) {
  // 64 tensors of 1 MiB each over the same 1 MiB of data: refused without allocating 64 MiB.
  const std::uint64_t size = 1 << 20;
  std::string h = "{";
  for (int i = 0; i < 64; ++i)
    h += (i ? "," : "") + std::string("\"t") + std::to_string(i) + R"(":{"dtype":"F32","shape":[)" +
         std::to_string(size / 4) + R"(],"data_offsets":[0,)" + std::to_string(size) + "]}";
  h += "}";
  std::string bytes = st_file(h, std::string(size, '\0'));
  reset_peak_memory();
  std::int64_t before = memory_stats().current_bytes;
  EXPECT_REFUSED(bytes, "overlaps");
  EXPECT_LT(memory_stats().peak_bytes - before, static_cast<std::int64_t>(size));
}

TEST(Safetensors, RefusesAHoleBetweenTensors) {
  std::string h = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                  R"("b":{"dtype":"F32","shape":[2],"data_offsets":[12,20]}})";
  std::string message = parse_error(st_file(h, std::string(20, '\0')));
  EXPECT_CONTAINS(message, "bad.safetensors");
  EXPECT_CONTAINS(message, "hole");
  EXPECT_CONTAINS(message, "\"b\"");
  EXPECT_CONTAINS(message, "bytes 8..12");
  // A hole at the start.
  EXPECT_REFUSED(st_file(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", std::string(8, '\0')), "hole");
}

TEST(Safetensors, RefusesTrailingBytes) {
  EXPECT_REFUSED(st_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", std::string(12, '\0')),
                 "4 trailing bytes");
  EXPECT_REFUSED(st_file("{}", "x"), "1 trailing bytes");
}

TEST(Safetensors, RefusesMetadataThatIsNotStrings) {
  std::string message = parse_error(st_file(R"({"__metadata__":{"format":"pt","epoch":3}})"));
  EXPECT_CONTAINS(message, "bad.safetensors");
  EXPECT_CONTAINS(message, "__metadata__.epoch");
  EXPECT_CONTAINS(message, "not a string");
  EXPECT_REFUSED(st_file(R"({"__metadata__":{"nested":{"a":"b"}}})"), "not a string");
  EXPECT_REFUSED(st_file(R"({"__metadata__":{"n":null}})"), "not a string");
  EXPECT_REFUSED(st_file(R"({"__metadata__":["a"]})"), "__metadata__ is not an object");
  EXPECT_REFUSED(st_file(R"({"__metadata__":"pt"})"), "__metadata__ is not an object");
}

TEST(Safetensors, RefusesIncompleteTensorEntries) {
  EXPECT_REFUSED(st_file(R"({"w":{"dtype":"F32","shape":[1]}})", std::string(4, '\0')),
                 "needs dtype, shape and data_offsets");
  EXPECT_REFUSED(st_file(R"({"w":[1,2]})"), "needs dtype, shape and data_offsets");
  EXPECT_REFUSED(st_file(R"({"w":{"shape":[1],"data_offsets":[0,4]}})", std::string(4, '\0')), "\"w\"");
}

TEST(Safetensors, LoadNamesTheFileInErrors) {
  TempDir dir;
  std::string path = dir / "broken.safetensors";
  write_bytes(path, st_file("{}", "xy"));
  try {
    load_safetensors(path);
    ADD_FAILURE() << "accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_CONTAINS(e.what(), path);
    EXPECT_CONTAINS(e.what(), "trailing");
  }
  // A truncated copy of a real file.
  std::string good = dir / "good.safetensors";
  save_safetensors(good, {{"w", ones({16})}});
  std::string bytes = read_bytes(good);
  write_bytes(path, bytes.substr(0, bytes.size() - 1));
  try {
    load_safetensors(path);
    ADD_FAILURE() << "accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_CONTAINS(e.what(), path);
    EXPECT_CONTAINS(e.what(), "CRC32 mismatch");
  }
}
