#include "zoograd/core/io/serialize.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cassert>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <span>
#include <sstream>
#include <stdexcept>

namespace zg {

namespace {

constexpr std::uint64_t kMaxHeader = 100'000'000;
constexpr std::size_t kWriteChunk = 64 * 1024;  // bounded writes, so a fault test can stop one mid-data
// How the crc32 appears in the header: the writer puts it first, the reader looks for this text.
constexpr std::string_view kCrcKey = R"("crc32":")";
constexpr std::string_view kCrcZeros = "00000000";

std::function<void(std::string_view)>& fault_hook() {
  static std::function<void(std::string_view)> hook;
  return hook;
}

void fault_point(std::string_view step) {
  if (fault_hook()) fault_hook()(step);
}

uLong crc_update(uLong crc, const void* data, std::size_t n) {
  return crc32_z(crc, static_cast<const Bytef*>(data), n);  // zlib's CRC starts from 0
}

std::string hex8(uLong crc) {
  char hex[9];
  std::snprintf(hex, sizeof hex, "%08lx", crc);
  return hex;
}

const char* safetensors_dtype(DType d) {
  switch (d) {
    case DType::Float32: return "F32";
    case DType::Float64: return "F64";
    case DType::Int64: return "I64";
  }
  return "?";
}

[[noreturn]] void fail(const std::string& name, const std::string& what) {
  throw std::runtime_error(name + ": " + what);
}

void write_all(int fd, const void* data, std::size_t n, std::string_view step, const std::string& path) {
  const char* p = static_cast<const char*>(data);
  do {
    fault_point(step);
    std::size_t chunk = std::min(n, kWriteChunk);
    while (chunk > 0) {
      ssize_t w = ::write(fd, p, chunk);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) fail(path, std::string("write failed: ") + std::strerror(errno));
      p += w;
      chunk -= static_cast<std::size_t>(w);
      n -= static_cast<std::size_t>(w);
    }
  } while (n > 0);
}

// True when the header's metadata has a crc32 and the file matches it; throws when it does not.
bool verify_crc(const std::string& bytes, const std::string& text, const nlohmann::ordered_json& header,
                const std::string& name) {
  auto meta = header.find("__metadata__");
  if (meta == header.end() || !meta->is_object() || !meta->contains("crc32")) return false;
  const auto& stored = (*meta)["crc32"];
  const std::string value = stored.is_string() ? stored.get<std::string>() : stored.dump();
  std::size_t key = text.find(kCrcKey);
  if (!stored.is_string() || value.size() != kCrcZeros.size() ||
      value.find_first_not_of("0123456789abcdef") != std::string::npos || key == std::string::npos ||
      text.compare(key + kCrcKey.size(), value.size(), value) != 0)
    fail(name, "__metadata__.crc32 " + stored.dump() + " is not written as \"crc32\":\"<8 lowercase hex digits>\"");
  const std::size_t digits = 8 + key + kCrcKey.size();
  uLong crc = crc_update(0, bytes.data(), digits);
  crc = crc_update(crc, kCrcZeros.data(), kCrcZeros.size());
  const std::size_t rest = digits + kCrcZeros.size();
  std::string computed = hex8(crc_update(crc, bytes.data() + rest, bytes.size() - rest));
  if (computed != value)
    fail(name, "CRC32 mismatch (stored " + value + ", computed " + computed + "): the file is damaged");
  return true;
}

// A piece of a file and the fault-hook step it is written under.
struct FilePart {
  std::string_view bytes;
  std::string_view step;
};

// The one atomic, durable write: a temporary file beside path, the parts, fsync, rename, fsync of
// the folder. On any failure the temporary file is removed and the error names path and the OS's
// reason; a file already at path is untouched.
void write_parts_atomic(const std::string& path, std::span<const FilePart> parts) {
  std::filesystem::path target(path);
  std::filesystem::path dir = target.has_parent_path() ? target.parent_path() : ".";
  std::string tmp_name = target.filename().string();
  tmp_name.insert(0, 1, '.').append(".tmp.XXXXXX");
  std::string tmp_template = (dir / tmp_name).string();
  fault_point("create");
  int fd = ::mkstemp(tmp_template.data());
  if (fd < 0) fail(path, std::string("cannot create a temporary file in ") + dir.string() + ": " + std::strerror(errno));
  try {
    // mkstemp creates the file 0600; give it the permissions a plain create would have.
    mode_t mask = ::umask(0);
    ::umask(mask);
    if (::fchmod(fd, 0666 & ~mask) != 0) fail(path, std::string("fchmod failed: ") + std::strerror(errno));
    for (const FilePart& part : parts) write_all(fd, part.bytes.data(), part.bytes.size(), part.step, path);
    fault_point("fsync");
    if (::fsync(fd) != 0) fail(path, std::string("fsync failed: ") + std::strerror(errno));
    fault_point("close");
    if (::close(fd) != 0) {
      fd = -1;
      fail(path, std::string("close failed: ") + std::strerror(errno));
    }
    fd = -1;
    fault_point("rename");
    if (std::rename(tmp_template.c_str(), path.c_str()) != 0)
      fail(path, std::string("rename failed: ") + std::strerror(errno));
  } catch (...) {
    if (fd >= 0) ::close(fd);
    std::remove(tmp_template.c_str());
    throw;
  }
  fault_point("fsync folder");
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (dfd >= 0) {
    ::fsync(dfd);  // makes the rename itself durable
    ::close(dfd);
  }
}

}  // namespace

void save_safetensors(const std::string& path, const NamedTensors& tensors, const Metadata& metadata) {
  if (metadata.count("crc32"))
    throw std::invalid_argument("save_safetensors: metadata key \"crc32\" is reserved for the file's checksum; rename it");
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  header["__metadata__"]["crc32"] = kCrcZeros;
  for (const auto& [key, value] : metadata) header["__metadata__"][key] = value;
  std::uint64_t offset = 0;
  std::set<std::string> names;
  for (const auto& [name, t] : tensors) {
    if (name == "__metadata__" || !names.insert(name).second)
      throw std::invalid_argument("save_safetensors: duplicate or reserved tensor name \"" + name + "\"");
    std::uint64_t bytes = static_cast<std::uint64_t>(t.numel()) * dtype_size(t.dtype());
    header[name] = {{"dtype", safetensors_dtype(t.dtype())}, {"shape", t.shape()}, {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');  // keeps the data 8-byte aligned
  std::uint64_t length = text.size();
  std::string head(8, '\0');
  for (int i = 0; i < 8; ++i) head[static_cast<std::size_t>(i)] = static_cast<char>(length >> (8 * i));
  head += text;
  // Computed over the data in memory before anything is written, so the header goes out once, complete.
  const std::size_t digits = 8 + std::string_view(R"({"__metadata__":{"crc32":")").size();
  assert(head.compare(digits, kCrcZeros.size(), kCrcZeros) == 0);
  uLong crc = crc_update(0, head.data(), head.size());
  for (const auto& [name, t] : tensors)
    crc = crc_update(crc, t.impl().storage->data, static_cast<std::size_t>(t.numel()) * dtype_size(t.dtype()));
  head.replace(digits, kCrcZeros.size(), hex8(crc));

  std::vector<FilePart> parts = {{std::string_view(head).substr(0, 8), "write prefix"},
                                 {std::string_view(head).substr(8), "write header"}};
  for (const auto& [name, t] : tensors)
    parts.push_back({{static_cast<const char*>(t.impl().storage->data), static_cast<std::size_t>(t.numel()) * dtype_size(t.dtype())},
                     "write data"});
  write_parts_atomic(path, parts);
}

void write_file_atomic(const std::string& path, std::string_view bytes) {
  const FilePart part{bytes, "write data"};
  write_parts_atomic(path, {&part, 1});
}

SafetensorsFile parse_safetensors(const std::string& bytes, const std::string& name) {
  if (bytes.size() < 8)
    fail(name, "file of " + std::to_string(bytes.size()) + " bytes is too short for the 8-byte header length");
  std::uint64_t length = 0;
  for (int i = 7; i >= 0; --i) length = (length << 8) | static_cast<unsigned char>(bytes[static_cast<std::size_t>(i)]);
  if (length > kMaxHeader)
    fail(name, "header length " + std::to_string(length) + " exceeds the 100 MB limit (not a safetensors file?)");
  if (length > bytes.size() - 8)
    fail(name, "header length " + std::to_string(length) + " runs past the end of the file (" +
                   std::to_string(bytes.size()) + " bytes): truncated?");
  std::string text = bytes.substr(8, length);
  if (text.empty() || text[0] != '{') fail(name, "header does not start with '{'");
  // nlohmann's lexer stops at a NUL byte as at the end of input, so "{}\0<anything>" would pass; raw NULs
  // are never valid JSON (the spec pads with spaces).
  if (auto nul = text.find('\0'); nul != std::string::npos)
    fail(name, "header is not valid JSON: NUL byte at offset " + std::to_string(8 + nul));

  std::set<std::string> seen;
  std::string duplicate;
  // ordered_json keeps the header's order, which is the order of out.tensors (nlohmann::json would sort the names).
  using Json = nlohmann::ordered_json;
  Json::parser_callback_t on_key = [&](int depth, Json::parse_event_t event, Json& key) {
    if (depth == 1 && event == Json::parse_event_t::key && !seen.insert(key.get<std::string>()).second)
      duplicate = key.get<std::string>();
    return true;
  };
  Json header;
  try {
    header = Json::parse(text, on_key);
  } catch (const nlohmann::json::exception& e) {
    fail(name, std::string("header is not valid JSON: ") + e.what());
  }
  if (!duplicate.empty()) fail(name, "tensor \"" + duplicate + "\" appears twice in the header");
  if (!header.is_object()) fail(name, "header is not a JSON object");

  SafetensorsFile out;
  out.checksummed = verify_crc(bytes, text, header, name);
  const std::uint64_t data_size = bytes.size() - 8 - length;
  struct Span {
    std::uint64_t begin, end;
    std::string name;
    DType dtype;
    Shape shape;
  };
  std::vector<Span> spans;  // header order
  const char* data = bytes.data() + 8 + length;
  for (auto it = header.begin(); it != header.end(); ++it) {
    const std::string& key = it.key();
    const Json& v = it.value();
    if (key == "__metadata__") {
      if (!v.is_object()) fail(name, "__metadata__ is not an object of strings");
      for (auto m = v.begin(); m != v.end(); ++m) {
        if (m.key() == "crc32") continue;  // verified above
        if (!m.value().is_string()) fail(name, "__metadata__." + m.key() + " is not a string");
        out.metadata[m.key()] = m.value().get<std::string>();
      }
      continue;
    }
    std::string field = "tensor \"" + key + "\"";
    if (!v.is_object() || !v.contains("dtype") || !v.contains("shape") || !v.contains("data_offsets"))
      fail(name, field + " needs dtype, shape and data_offsets");
    if (!v["dtype"].is_string()) fail(name, field + ": dtype is not a string");
    std::string dt = v["dtype"].get<std::string>();
    DType dtype;
    if (dt == "F32") dtype = DType::Float32;
    else if (dt == "F64") dtype = DType::Float64;
    else if (dt == "I64") dtype = DType::Int64;
    else fail(name, field + ": unsupported dtype \"" + dt + "\" (zoograd reads F32, F64 and I64)");
    if (!v["shape"].is_array()) fail(name, field + ": shape is not an array");
    Shape shape;
    std::uint64_t count = 1;
    for (const auto& d : v["shape"]) {
      if (!d.is_number_unsigned()) fail(name, field + ": shape holds a value that is not a non-negative integer");
      auto dim = d.get<std::uint64_t>();
      if (dim > (std::uint64_t{1} << 40) || (dim && count > (std::uint64_t{1} << 40) / dim))
        fail(name, field + ": shape " + v["shape"].dump() + " is too large");
      count *= dim;
      shape.push_back(static_cast<std::int64_t>(dim));
    }
    const auto& off = v["data_offsets"];
    if (!off.is_array() || off.size() != 2 || !off[0].is_number_unsigned() || !off[1].is_number_unsigned())
      fail(name, field + ": data_offsets must be two non-negative integers");
    std::uint64_t begin = off[0].get<std::uint64_t>(), end = off[1].get<std::uint64_t>();
    if (end < begin || end > data_size)
      fail(name, field + ": data_offsets [" + std::to_string(begin) + ", " + std::to_string(end) +
                     "] fall outside the data section of " + std::to_string(data_size) + " bytes");
    if (end - begin != count * dtype_size(dtype))
      fail(name, field + ": data_offsets span " + std::to_string(end - begin) + " bytes but shape " +
                     v["shape"].dump() + " of " + dt + " needs " + std::to_string(count * dtype_size(dtype)));
    spans.push_back({begin, end, key, dtype, shape});
  }
  // Tiling check before any allocation (overlapping spans could otherwise ask for many times the file's size).
  // Ties on begin put empty tensors first: [8, 8] next to [8, 16] is no overlap.
  std::vector<const Span*> sorted;
  for (const Span& s : spans) sorted.push_back(&s);
  std::sort(sorted.begin(), sorted.end(),
            [](const Span* a, const Span* b) { return a->begin != b->begin ? a->begin < b->begin : a->end < b->end; });
  std::uint64_t covered = 0;
  for (const Span* sp : sorted) {
    const Span& s = *sp;
    if (s.begin < covered) fail(name, "tensor \"" + s.name + "\" overlaps the previous tensor's data");
    if (s.begin > covered)
      fail(name, "hole in the data section before tensor \"" + s.name + "\" (bytes " + std::to_string(covered) + ".." +
                     std::to_string(s.begin) + ")");
    covered = s.end;
  }
  if (covered != data_size)
    fail(name, std::to_string(data_size - covered) + " trailing bytes after the last tensor's data");
  for (const Span& s : spans) {
    Tensor t = empty(s.shape, s.dtype);
    if (s.end > s.begin) std::memcpy(t.impl().storage->data, data + s.begin, static_cast<std::size_t>(s.end - s.begin));
    out.tensors.emplace_back(s.name, t);
  }
  return out;
}

void set_save_fault_hook(std::function<void(std::string_view step)> hook) { fault_hook() = std::move(hook); }

SafetensorsFile load_safetensors(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, "cannot open for reading");
  std::ostringstream buffer;  // copies block by block (an istreambuf_iterator goes char by char)
  if (in.peek() != std::ifstream::traits_type::eof()) buffer << in.rdbuf();
  if (in.bad() || buffer.bad()) fail(path, "read error");
  std::string bytes = std::move(buffer).str();
  return parse_safetensors(bytes, path);
}

}  // namespace zg
