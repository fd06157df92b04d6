#include "zoograd/datasets/image_folder.h"

#include <stb/stb_image.h>

#include <algorithm>
#include <cctype>
#include <climits>
#include <filesystem>
#include <fstream>
#include <memory>
#include <stdexcept>

namespace zg {

// in stb_image.cpp
void clear_stb_failure_reason();
int stb_png_info(const stbi_uc* data, int length, int* width, int* height, int* channels);

namespace {
namespace fs = std::filesystem;

[[noreturn]] void fail(const fs::path& where, const std::string& what) {
  throw std::runtime_error(where.string() + ": " + what);
}

std::vector<fs::path> sorted_entries(const fs::path& dir) {
  std::vector<fs::path> out;
  for (const auto& entry : fs::directory_iterator(dir)) out.push_back(entry.path());
  std::sort(out.begin(), out.end());
  return out;
}

bool has_png_extension(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  return ext == ".png";
}

void check_file_size(std::uintmax_t size, const fs::path& p, std::int64_t max_bytes) {
  if (size > static_cast<std::uintmax_t>(max_bytes))
    fail(p, "file of " + std::to_string(size) + " bytes exceeds the limit of " + std::to_string(max_bytes) +
                " bytes (ImageFolderLimits::max_file_bytes)");
}

void check_limits(const char* who, const ImageFolderLimits& limits) {
  if (limits.max_file_bytes > INT_MAX)
    throw std::invalid_argument(std::string(who) + ": max_file_bytes " + std::to_string(limits.max_file_bytes) +
                                " exceeds stb_image's limit of " + std::to_string(INT_MAX));
}

std::string read_file(const fs::path& p, std::int64_t max_bytes) {
  std::error_code ec;
  const std::uintmax_t size = fs::file_size(p, ec);
  if (ec) fail(p, "cannot read: " + ec.message());
  check_file_size(size, p, max_bytes);  // before reading: the file may be huge
  std::string bytes(size, '\0');
  std::ifstream in(p, std::ios::binary);
  if (!in.read(bytes.data(), static_cast<std::streamsize>(size))) fail(p, "read error");
  return bytes;
}

const stbi_uc* stb_bytes(const std::string& bytes) { return reinterpret_cast<const stbi_uc*>(bytes.data()); }

std::string stb_failure() {
  const char* why = stbi_failure_reason();
  return std::string("(stb_image: ") + (why ? why : "corrupt data, no reason given") + ")";
}

struct PngHeader {
  int width = 0, height = 0, channels = 0;
};

// The checks that must pass before stb_image decodes anything.
PngHeader inspect_png(const std::string& bytes, const fs::path& name, const ImageFolderLimits& limits) {
  check_file_size(bytes.size(), name, limits.max_file_bytes);
  const int length = static_cast<int>(bytes.size());
  PngHeader png;
  clear_stb_failure_reason();
  if (!stb_png_info(stb_bytes(bytes), length, &png.width, &png.height, &png.channels))
    fail(name, "not a valid PNG file " + stb_failure());
  if (stbi_is_16_bit_from_memory(stb_bytes(bytes), length))
    fail(name, "16-bit PNG is not supported; save it with 8 bits per channel");
  if (png.width > limits.max_side || png.height > limits.max_side)
    fail(name, "image of " + std::to_string(png.width) + "x" + std::to_string(png.height) + " exceeds max_side " +
                   std::to_string(limits.max_side));
  return png;
}

std::string size_of(const PngHeader& png) { return std::to_string(png.width) + "x" + std::to_string(png.height); }

struct Sample {
  fs::path file;
  std::int64_t label;
};

// One class per sub-folder (sorted), its .png files (sorted); anything else is an error.
std::vector<Sample> list_samples(const fs::path& root, std::int64_t max_images, std::vector<std::string>& class_names) {
  if (!fs::is_directory(root)) fail(root, "not a folder (expected one sub-folder of PNG images per class)");
  std::vector<Sample> samples;
  for (const fs::path& class_dir : sorted_entries(root)) {
    if (!fs::is_directory(class_dir))
      fail(class_dir, "not a folder: the root of an image folder holds only one sub-folder per class");
    const auto label = static_cast<std::int64_t>(class_names.size());
    const std::size_t first = samples.size();
    for (const fs::path& file : sorted_entries(class_dir)) {
      if (fs::is_directory(file) || !has_png_extension(file))
        fail(file, "not a .png file: class folders hold only PNG images");
      if (static_cast<std::int64_t>(samples.size()) == max_images)
        fail(root, "holds more than max_images " + std::to_string(max_images) + " images");
      samples.push_back({file, label});
    }
    if (samples.size() == first) fail(class_dir, "class folder is empty: it holds no PNG images");
    class_names.push_back(class_dir.filename().string());
  }
  if (samples.empty()) fail(root, "folder is empty: expected one sub-folder of PNG images per class");
  return samples;
}
}  // namespace

PngImage decode_png(const std::string& bytes, const std::string& name, int channels, const ImageFolderLimits& limits) {
  check_limits("decode_png", limits);
  if (channels != 1 && channels != 3)
    throw std::invalid_argument("decode_png: channels must be 1 or 3, got " + std::to_string(channels));
  inspect_png(bytes, name, limits);
  int w = 0, h = 0, file_channels = 0;
  clear_stb_failure_reason();
  std::unique_ptr<stbi_uc, decltype(&stbi_image_free)> image(
      stbi_load_from_memory(stb_bytes(bytes), static_cast<int>(bytes.size()), &w, &h, &file_channels, channels),
      &stbi_image_free);
  if (!image) fail(name, "cannot decode PNG " + stb_failure());
  // stb_image gives interleaved (H, W, C); samples are stored planar (C, H, W).
  const std::size_t plane = static_cast<std::size_t>(w) * static_cast<std::size_t>(h);
  const auto c_count = static_cast<std::size_t>(channels);
  PngImage out{w, h, channels, std::vector<std::uint8_t>(plane * c_count)};
  for (std::size_t c = 0; c < c_count; ++c)
    for (std::size_t k = 0; k < plane; ++k) out.pixels[c * plane + k] = image.get()[k * c_count + c];
  return out;
}

Dataset load_image_folder(const std::string& root, const ImageFolderLimits& limits) {
  check_limits("load_image_folder", limits);
  Dataset d;
  d.name = root;
  const std::vector<Sample> samples = list_samples(root, limits.max_images, d.class_names);
  d.num_classes = static_cast<std::int64_t>(d.class_names.size());

  // Every header is checked before the pixel buffer is allocated or anything is decoded.
  auto header_of = [&](const fs::path& file) { return inspect_png(read_file(file, limits.max_file_bytes), file, limits); };
  const PngHeader first = header_of(samples[0].file);
  bool colour = first.channels >= 3;
  for (std::size_t i = 1; i < samples.size(); ++i) {
    const PngHeader png = header_of(samples[i].file);
    if (png.width != first.width || png.height != first.height)
      fail(samples[i].file, "image is " + size_of(png) + " but " + samples[0].file.string() + " is " + size_of(first) +
                                ": all images must have the same size");
    colour = colour || png.channels >= 3;
  }
  const int channels = colour ? 3 : 1;  // stb_image converts grey to RGB and drops alpha
  const std::int64_t per = std::int64_t{channels} * first.width * first.height;
  if (static_cast<std::int64_t>(samples.size()) > limits.max_bytes / per)
    fail(root, std::to_string(samples.size()) + " images of " + std::to_string(per) + " bytes exceed max_bytes " +
                   std::to_string(limits.max_bytes));
  d.sample_shape = {channels, first.height, first.width};
  d.pixels.resize(static_cast<std::size_t>(per) * samples.size());
  d.labels.reserve(samples.size());
  for (std::size_t i = 0; i < samples.size(); ++i) {
    const fs::path& file = samples[i].file;
    const PngImage image = decode_png(read_file(file, limits.max_file_bytes), file.string(), channels, limits);
    if (image.width != first.width || image.height != first.height)  // the file may have changed since
      fail(file, "image changed while loading: now " + std::to_string(image.width) + "x" + std::to_string(image.height));
    std::copy(image.pixels.begin(), image.pixels.end(), d.pixels.begin() + static_cast<std::ptrdiff_t>(i) * per);
    d.labels.push_back(samples[i].label);
  }
  return d;
}

}  // namespace zg
