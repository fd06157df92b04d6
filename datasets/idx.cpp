#include "zoograd/datasets/idx.h"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <stdexcept>

namespace zg {

namespace {

constexpr std::uint32_t kImageMagic = 2051, kLabelMagic = 2049;
constexpr std::size_t kChunk = 1 << 20;             // compressed bytes read per refill
constexpr std::size_t kMaxInflateOut = 1u << 30;    // zlib counts output in 32-bit uInt

[[noreturn]] void fail(const std::string& path, const std::string& what) { throw std::runtime_error(path + ": " + what); }

std::string hex(std::uint8_t b) {
  char s[5];
  std::snprintf(s, sizeof s, "0x%02X", b);
  return s;
}

const char* type_name(std::uint8_t type) {
  switch (type) {
    case 0x08: return "unsigned byte";
    case 0x09: return "signed byte";
    case 0x0B: return "16-bit integer";
    case 0x0C: return "32-bit integer";
    case 0x0D: return "32-bit float";
    case 0x0E: return "64-bit float";
  }
  return "not an IDX type";
}

// The bytes of a file in order; a gzip file (magic 1f 8b) is inflated while it is read, so a
// large file never exists twice in memory.
class ByteReader {
 public:
  explicit ByteReader(const std::string& path) : path_(path), file_(std::fopen(path.c_str(), "rb"), &std::fclose) {
    if (!file_) fail(path, std::string("cannot open: ") + std::strerror(errno));
    unsigned char magic[2];
    gzip_ = std::fread(magic, 1, 2, file_.get()) == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
    check_read();
    std::fseek(file_.get(), 0, SEEK_END);
    const long size = std::ftell(file_.get());
    if (size < 0) fail(path, "cannot determine the file size");
    std::rewind(file_.get());
    if (gzip_) {
      in_.resize(std::min(kChunk, static_cast<std::size_t>(size)));  // a small file, a small buffer
      if (inflateInit2(&z_, 16 + MAX_WBITS) != Z_OK) fail(path, "zlib could not start inflating (out of memory?)");
    } else {
      raw_size_ = static_cast<std::uint64_t>(size);
    }
  }
  ~ByteReader() {
    if (gzip_) inflateEnd(&z_);
  }
  ByteReader(const ByteReader&) = delete;
  ByteReader& operator=(const ByteReader&) = delete;

  bool gzip() const { return gzip_; }
  // The size of an uncompressed file, known before reading; nullopt for gzip.
  std::optional<std::uint64_t> raw_size() const { return raw_size_; }

  // Reads up to n bytes into dst; fewer only where the data ends.
  std::size_t read(std::uint8_t* dst, std::size_t n) {
    if (!gzip_) {
      std::size_t got = std::fread(dst, 1, n, file_.get());
      check_read();
      return got;
    }
    std::size_t done = 0;
    while (done < n && !stream_end_) {
      if (z_.avail_in == 0) refill();
      z_.next_out = dst + done;
      z_.avail_out = static_cast<uInt>(std::min(n - done, kMaxInflateOut));
      int rc = inflate(&z_, Z_NO_FLUSH);
      done = static_cast<std::size_t>(z_.next_out - dst);
      if (rc == Z_STREAM_END) stream_end_ = true;  // the CRC-32 and length of the trailer matched
      else if (rc == Z_BUF_ERROR && z_.avail_in == 0)
        fail(path_, "gzip stream is truncated: the file ends inside the compressed data");
      else if (rc != Z_OK)
        fail(path_, std::string("gzip data is corrupt (zlib: ") + (z_.msg ? z_.msg : zError(rc)) + ")");
    }
    return done;
  }

  // Throws unless nothing follows what was read: no further data and, for gzip, a cleanly ended
  // stream with no bytes after it (concatenated members or garbage).
  void expect_end(const std::string& what_was_read) {
    std::uint8_t probe;
    if (read(&probe, 1) == 1)
      fail(path_, std::string("trailing bytes after ") + what_was_read + (gzip_ ? " in the decompressed data" : ""));
    if (!gzip_) return;
    std::uint64_t extra = z_.avail_in;
    while (std::size_t got = std::fread(in_.data(), 1, in_.size(), file_.get())) extra += got;
    check_read();
    if (extra > 0) fail(path_, std::to_string(extra) + " trailing bytes after the end of the gzip stream");
  }

 private:
  void check_read() const {
    if (std::ferror(file_.get())) fail(path_, std::string("read error: ") + std::strerror(errno));
  }

  void refill() {
    std::size_t got = std::fread(in_.data(), 1, in_.size(), file_.get());
    check_read();
    z_.next_in = in_.data();
    z_.avail_in = static_cast<uInt>(got);
  }

  std::string path_;
  std::unique_ptr<std::FILE, decltype(&std::fclose)> file_;
  bool gzip_ = false, stream_end_ = false;
  std::optional<std::uint64_t> raw_size_;
  z_stream z_{};
  std::vector<std::uint8_t> in_;
};

// An IDX file whose header has been read and validated; the payload is allocated only after.
class IdxFile {
 public:
  IdxFile(const std::string& path, std::uint32_t expected_magic, const IdxLimits& limits) : path_(path), bytes_(path) {
    if (expected_magic != kImageMagic && expected_magic != kLabelMagic)
      throw std::invalid_argument("read_idx: expected_magic must be 2051 (images) or 2049 (labels), got " +
                                  std::to_string(expected_magic));
    std::uint8_t magic[4];
    read_header(magic, 0, 4, "magic number");
    if (magic[0] != 0 || magic[1] != 0)
      fail(path, "not an IDX file: magic number starts with " + hex(magic[0]) + " " + hex(magic[1]) + ", expected 0x00 0x00");
    if (magic[2] != 0x08)
      fail(path, "type byte " + hex(magic[2]) + " (" + type_name(magic[2]) +
                     ") is not supported; zoograd reads only 0x08 (unsigned byte)");
    const std::uint32_t got = 0x0800u | magic[3];
    if (got != expected_magic) {
      if (got == kImageMagic || got == kLabelMagic)
        fail(path, "magic " + std::to_string(got) + " is an IDX " + kind(got) + " file; expected " + article(expected_magic));
      fail(path, "rank " + std::to_string(magic[3]) + " (magic " + std::to_string(got) + ") is wrong; expected rank " +
                     std::to_string(expected_magic & 0xFF) + " for " + article(expected_magic));
    }
    read_dims(magic[3], limits);
  }

  const Shape& dims() const { return dims_; }

  std::vector<std::uint8_t> read_payload() {
    const std::string described = "the payload of " + std::to_string(payload_) + " bytes (dims " + to_string(dims_) + ")";
    if (auto size = bytes_.raw_size()) {  // an uncompressed file can be checked before allocating
      const std::uint64_t expected = header_bytes_ + payload_;
      if (*size < expected) truncated(*size - header_bytes_, "file");
      if (*size > expected) fail(path_, std::to_string(*size - expected) + " trailing bytes after " + described);
    }
    // A gzip file's size says nothing of what it inflates to: its payload grows as the data comes
    // (doubling from 1 MB), so a few bytes claiming 2 GB end as truncated before that memory is taken.
    std::vector<std::uint8_t> data;
    const std::size_t first = bytes_.gzip() ? kChunk : payload_;
    while (data.size() < payload_) {
      const std::size_t have = data.size(), want = std::min<std::uint64_t>(payload_ - have, std::max(first, have));
      data.reserve(have + want);  // exactly: no capacity beyond the payload
      data.resize(have + want);
      const std::size_t got = bytes_.read(data.data() + have, want);
      if (got < want) truncated(have + got, bytes_.gzip() ? "decompressed data" : "file");
    }
    bytes_.expect_end(described);
    return data;
  }

 private:
  static const char* kind(std::uint32_t magic) { return magic == kImageMagic ? "image" : "label"; }
  static std::string article(std::uint32_t magic) {
    return magic == kImageMagic ? "an image file (2051)" : "a label file (2049)";
  }

  void read_header(std::uint8_t* dst, std::size_t offset, std::size_t n, const char* field) {
    std::size_t got = bytes_.read(dst, n);
    if (got < n)
      fail(path_, "header is truncated: the data ends after " + std::to_string(offset + got) + " bytes, inside the " +
                      field + " (bytes " + std::to_string(offset) + ".." + std::to_string(offset + n - 1) + ")");
  }

  void read_dims(std::size_t rank, const IdxLimits& limits) {
    static const char* const names[] = {"items", "rows", "columns"};
    std::uint8_t raw[12];
    read_header(raw, 4, 4 * rank, "dimension sizes");
    header_bytes_ = 4 + 4 * rank;
    payload_ = 1;
    for (std::size_t i = 0; i < rank; ++i) {
      const std::uint8_t* b = raw + 4 * i;
      const std::int64_t dim = (std::int64_t{b[0]} << 24) | (b[1] << 16) | (b[2] << 8) | b[3];
      const std::int64_t limit = i == 0 ? limits.max_items : limits.max_side;
      if (dim < 1 || dim > limit)
        fail(path_, "dimension " + std::to_string(i) + " (" + names[i] + ") is " + std::to_string(dim) +
                        "; allowed 1.." + std::to_string(limit));
      dims_.push_back(dim);
    }
    for (std::int64_t dim : dims_) {
      if (payload_ > static_cast<std::uint64_t>(limits.max_bytes) / static_cast<std::uint64_t>(dim))
        fail(path_, "dims " + to_string(dims_) + " make a payload larger than the limit of " +
                        std::to_string(limits.max_bytes) + " bytes");
      payload_ *= static_cast<std::uint64_t>(dim);
    }
  }

  [[noreturn]] void truncated(std::uint64_t have, const char* where) {
    fail(path_, "payload is truncated: dims " + to_string(dims_) + " need " + std::to_string(payload_) +
                    " bytes after the " + std::to_string(header_bytes_) + "-byte header, but the " + where + " has " +
                    std::to_string(have));
  }

  std::string path_;
  ByteReader bytes_;
  Shape dims_;
  std::uint64_t header_bytes_ = 0, payload_ = 0;
};

}  // namespace

IdxArray read_idx(const std::string& path, std::uint32_t expected_magic, const IdxLimits& limits) {
  IdxFile file(path, expected_magic, limits);
  IdxArray out;
  out.dims = file.dims();
  out.data = file.read_payload();
  return out;
}

Dataset load_idx(const std::string& images_path, const std::string& labels_path, const std::string& name,
                 std::int64_t num_classes, const IdxLimits& limits) {
  if (num_classes < 1) throw std::invalid_argument("load_idx: num_classes must be positive, got " + std::to_string(num_classes));
  IdxFile images(images_path, kImageMagic, limits);
  IdxFile labels(labels_path, kLabelMagic, limits);
  if (images.dims()[0] != labels.dims()[0])
    throw std::runtime_error(images_path + " holds " + std::to_string(images.dims()[0]) + " images but " + labels_path +
                             " holds " + std::to_string(labels.dims()[0]) + " labels: the counts must match");
  Dataset d;
  d.name = name;
  d.sample_shape = {1, images.dims()[1], images.dims()[2]};
  d.num_classes = num_classes;
  for (std::int64_t c = 0; c < num_classes; ++c) d.class_names.push_back(std::to_string(c));
  // The small label file first, so a bad label fails before the images are read.
  std::vector<std::uint8_t> raw_labels = labels.read_payload();
  d.labels.reserve(raw_labels.size());
  for (std::size_t i = 0; i < raw_labels.size(); ++i) {
    if (raw_labels[i] >= num_classes)
      fail(labels_path, "label " + std::to_string(raw_labels[i]) + " at index " + std::to_string(i) + " is out of range for " +
                            std::to_string(num_classes) + " classes (0.." + std::to_string(num_classes - 1) + ")");
    d.labels.push_back(raw_labels[i]);
  }
  d.pixels = images.read_payload();
  return d;
}

}  // namespace zg
