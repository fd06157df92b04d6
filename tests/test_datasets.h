#pragma once
// The helpers shared by tests/test_datasets.cpp and tests/test_datasets_loading.cpp.
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

#include "zoograd/datasets/dataset.h"
#include "zoograd/datasets/digits_json.h"
#include "zoograd/datasets/idx.h"
#include "zoograd/datasets/image_folder.h"
#include "zoograd/datasets/registry.h"
#include "zoograd/datasets/synthetic.h"
#include "zoograd/tests/log_capture.h"
#include "zoograd/tests/test_util.h"

using namespace zg;
namespace fs = std::filesystem;
using Bytes = std::vector<std::uint8_t>;

namespace {

using zg_tests::error_of;
using zg_tests::LogCapture;
using zg_tests::TempDir;

inline void write_file(const std::string& path, const Bytes& bytes) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("cannot write " + path);
}

inline void write_text(const std::string& path, const std::string& text) { write_file(path, Bytes(text.begin(), text.end())); }

inline Bytes read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

inline Bytes random_bytes(std::size_t n, std::uint64_t seed) {
  Generator gen(seed);
  Bytes b(n);
  for (auto& v : b) v = static_cast<std::uint8_t>(gen.next_u64());
  return b;
}

inline Bytes be32(std::uint32_t v) {
  return {static_cast<std::uint8_t>(v >> 24), static_cast<std::uint8_t>(v >> 16), static_cast<std::uint8_t>(v >> 8),
          static_cast<std::uint8_t>(v)};
}

inline Bytes concat(Bytes a, const Bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}
inline Bytes cut(Bytes b, std::size_t n) {
  b.resize(n);
  return b;
}
inline Bytes with_byte(Bytes b, std::size_t at, std::uint8_t value) {
  b.at(at) = value;
  return b;
}

// An IDX file: two zero bytes, the type byte, the rank, the big-endian dims, the payload.
inline Bytes idx_file(std::uint8_t type, const std::vector<std::uint32_t>& dims, const Bytes& payload) {
  Bytes b{0, 0, type, static_cast<std::uint8_t>(dims.size())};
  for (std::uint32_t d : dims) b = concat(b, be32(d));
  return concat(b, payload);
}

// One gzip member as gzip(1) writes it: deflate data between the gzip header and its CRC-32/length trailer.
inline Bytes gzip(const Bytes& raw) {
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
inline Bytes tiny_pixels() {
  Bytes p(18);
  std::iota(p.begin(), p.end(), std::uint8_t{0});
  return p;
}
inline Bytes tiny_images() { return idx_file(0x08, {2, 3, 3}, tiny_pixels()); }
inline Bytes tiny_labels() { return idx_file(0x08, {2}, {1, 7}); }

struct BadFile {
  std::string name;
  Bytes bytes;
  std::uint32_t expected_magic;
  std::vector<std::string> words;  // the error message must contain each
};

inline std::vector<BadFile> bad_idx_files() {
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
// Pixel p of image j of digit c; pixels 0 and 1 identify the image.
inline std::uint8_t digit_pixel(int c, int j, int p) {
  if (p == 0) return static_cast<std::uint8_t>(j);
  if (p == 1) return static_cast<std::uint8_t>(c);
  return static_cast<std::uint8_t>((c * 13 + j * 7 + p * 3) % 256);
}

// A digit file as the npm package writes it: {"data": [...]} of k/255 rounded to 3 decimals.
inline std::string digit_json(int c, int images) {
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
inline void write_fake_digits(const std::string& folder) {
  for (int c = 0; c < 10; ++c) write_text(folder + "/" + std::to_string(c) + ".json", digit_json(c, 3 + c));
}

inline void write_png(const std::string& path, int w, int h, int channels, const Bytes& pixels) {
  fs::create_directories(fs::path(path).parent_path());
  if (!stbi_write_png(path.c_str(), w, h, channels, pixels.data(), w * channels))
    throw std::runtime_error("stbi_write_png failed for " + path);
}

// A PNG chunk: length, type, data, CRC-32 of type and data.
inline Bytes png_chunk(const char* type, const Bytes& data) {
  const Bytes body = concat(Bytes(type, type + 4), data);
  const auto crc = static_cast<std::uint32_t>(crc32(0, body.data(), static_cast<uInt>(body.size())));
  return concat(concat(be32(static_cast<std::uint32_t>(data.size())), body), be32(crc));
}

// A PNG built chunk by chunk, for what stb_image_write cannot write (16 bits, palettes); rows
// are the scanlines, each led by its filter byte.
inline Bytes png_file(std::uint32_t w, std::uint32_t h, std::uint8_t bit_depth, std::uint8_t colour_type, const Bytes& palette,
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

inline Bytes png_16bit(std::uint32_t w, std::uint32_t h) { return png_file(w, h, 16, 0, {}, Bytes(h * (1 + 2 * w), 0)); }

}  // namespace
