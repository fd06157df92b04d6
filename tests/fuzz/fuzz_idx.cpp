// The IDX reader over arbitrary bytes, which it takes as a file: written as they are (a gzip file
// when they start with 1f 8b) and gzip-compressed (so that the IDX checks behind a valid gzip
// stream are reached too), each read as images, as labels, and as the label file of a pair.
// The files live in memory (memfd), named by their /proc/self/fd path.
#include <sys/mman.h>
#include <unistd.h>
#include <zlib.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <string>
#include <vector>

#include "zoograd/datasets/idx.h"

namespace {
using Bytes = std::vector<std::uint8_t>;

class MemFile {
 public:
  MemFile() : fd_(::memfd_create("fuzz_idx", 0)), path_("/proc/self/fd/" + std::to_string(fd_)) {
    if (fd_ < 0) std::abort();
  }
  MemFile(const MemFile&) = delete;
  MemFile& operator=(const MemFile&) = delete;
  const std::string& path() const { return path_; }
  void write(const Bytes& bytes) const {
    if (::ftruncate(fd_, 0) != 0 || ::pwrite(fd_, bytes.data(), bytes.size(), 0) != static_cast<ssize_t>(bytes.size()))
      std::abort();
  }

 private:
  int fd_;
  std::string path_;
};

Bytes gzip(const Bytes& raw) {
  z_stream z{};
  deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
  Bytes out(deflateBound(&z, static_cast<uLong>(raw.size())));
  z.next_in = const_cast<std::uint8_t*>(raw.data());
  z.avail_in = static_cast<uInt>(raw.size());
  z.next_out = out.data();
  z.avail_out = static_cast<uInt>(out.size());
  deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

// The input, and a valid file of 2 images of 2x2 for the pairs.
struct Files {
  MemFile input, images;
  Files() {
    Bytes tiny{0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 2};
    tiny.resize(tiny.size() + 8, 7);
    images.write(tiny);
  }
};
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const Files files;
  const Bytes bytes(data, data + size);
  for (const Bytes& file : {bytes, gzip(bytes)}) {
    files.input.write(file);
    for (std::uint32_t magic : {2051u, 2049u}) {
      try {
        zg::read_idx(files.input.path(), magic);
      } catch (const std::exception&) {
      }
    }
    try {
      zg::load_idx(files.images.path(), files.input.path(), "fuzz");
    } catch (const std::exception&) {
    }
  }
  return 0;
}
