#include "zoograd/datasets/digits_json.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>

namespace zg {

namespace {
using json = nlohmann::json;

constexpr std::size_t kPixels = 28 * 28;
constexpr std::uintmax_t kMaxFileBytes = 64u << 20;

[[noreturn]] void fail(const std::string& path, const std::string& what) { throw std::runtime_error(path + ": " + what); }

std::string read_limited(const std::string& path) {
  std::error_code ec;
  const std::uintmax_t size = std::filesystem::file_size(path, ec);
  if (ec) fail(path, "cannot read: " + ec.message());
  if (size > kMaxFileBytes)
    fail(path, "file of " + std::to_string(size) + " bytes exceeds the 64 MB limit (" + std::to_string(kMaxFileBytes) + " bytes)");
  std::string text(size, '\0');
  std::ifstream in(path, std::ios::binary);
  if (!in.read(text.data(), static_cast<std::streamsize>(size))) fail(path, "read error");
  return text;
}

// Parses one digit file as a stream, checking its structure on the way and appending each pixel
// as a byte: a DOM of a million JSON numbers would cost far more time and memory than the bytes.
class DigitFileParser : public nlohmann::json_sax<json> {
 public:
  DigitFileParser(std::string path, std::vector<std::uint8_t>& pixels)
      : path_(std::move(path)), pixels_(pixels), first_(pixels.size()) {}

  bool null() override { return begin_value("null"); }
  bool boolean(bool) override { return begin_value("a boolean"); }
  bool number_integer(number_integer_t v) override { return number(static_cast<double>(v), std::to_string(v)); }
  bool number_unsigned(number_unsigned_t v) override { return number(static_cast<double>(v), std::to_string(v)); }
  bool number_float(number_float_t v, const string_t& text) override { return number(v, text); }
  bool string(string_t&) override { return begin_value("a string"); }
  bool binary(binary_t&) override { return begin_value("binary data"); }
  bool start_object(std::size_t) override { return begin_value("an object", Container::Object); }
  bool start_array(std::size_t) override { return begin_value("an array", Container::Array); }
  bool end_object() override { return end_container(); }
  bool end_array() override { return end_container(); }
  bool key(string_t& k) override {
    if (depth_ == 1) key_ = k;
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& e) override {
    fail(path_, std::string("not valid JSON: ") + e.what());
  }

  // The number of images read; throws unless "data" was present with whole images.
  std::size_t finish() const {
    if (!seen_data_) fail(path_, "the object has no \"data\" array");
    const std::size_t count = pixels_.size() - first_;
    if (count == 0) fail(path_, "\"data\" is empty: no images");
    if (count % kPixels != 0)
      fail(path_, "\"data\" holds " + std::to_string(count) + " values, not a multiple of 784 (28x28 pixels per image)");
    return count / kPixels;
  }

 private:
  enum class Container { None, Object, Array };

  bool in_data() const { return data_open_ && depth_ == 2; }
  std::string element() const { return "data[" + std::to_string(pixels_.size() - first_) + "]"; }

  bool begin_value(const char* kind, Container opens = Container::None) {
    if (depth_ == 0 && opens != Container::Object) fail(path_, std::string("not a JSON object: the top level is ") + kind);
    if (in_data()) fail(path_, element() + " is " + kind + ", expected a number in [0, 1]");
    if (depth_ == 1 && key_ == "data") {
      if (opens != Container::Array) fail(path_, std::string("\"data\" is ") + kind + ", expected an array of numbers");
      if (seen_data_) fail(path_, "\"data\" appears twice");
      seen_data_ = data_open_ = true;
    }
    if (opens != Container::None) ++depth_;
    return true;
  }

  bool end_container() {
    if (in_data()) data_open_ = false;
    --depth_;
    return true;
  }

  bool number(double v, const std::string& text) {
    if (!in_data()) return begin_value("a number");
    if (!(v >= 0.0 && v <= 1.0)) fail(path_, element() + " = " + text + " is outside [0, 1]");
    pixels_.push_back(static_cast<std::uint8_t>(std::lround(v * 255.0)));
    return true;
  }

  std::string path_;
  std::vector<std::uint8_t>& pixels_;
  std::size_t first_;
  int depth_ = 0;
  std::string key_;
  bool seen_data_ = false, data_open_ = false;
};
}  // namespace

std::size_t parse_digits_json(const std::string& text, const std::string& name, std::vector<std::uint8_t>& pixels) {
  DigitFileParser parser(name, pixels);
  json::sax_parse(text, &parser);
  return parser.finish();
}

Dataset load_digits_json(const std::string& folder) {
  Dataset d;
  d.name = "mnist-digits";
  d.sample_shape = {1, 28, 28};
  d.num_classes = 10;
  for (std::int64_t digit = 0; digit < 10; ++digit) {
    const std::string path = (std::filesystem::path(folder) / (std::to_string(digit) + ".json")).string();
    d.labels.insert(d.labels.end(), parse_digits_json(read_limited(path), path, d.pixels), digit);
    d.class_names.push_back(std::to_string(digit));
  }
  return d;
}

DigitSplit split_stratified(const Dataset& all, double test_fraction, std::uint64_t seed) {
  if (!(test_fraction >= 0.0 && test_fraction <= 1.0))
    throw std::invalid_argument("split_stratified: test_fraction must be in [0, 1], got " + std::to_string(test_fraction));
  std::vector<std::vector<std::int64_t>> by_class(static_cast<std::size_t>(all.num_classes));
  for (std::int64_t i = 0; i < all.size(); ++i) {
    const std::int64_t label = all.labels[static_cast<std::size_t>(i)];
    if (label < 0 || label >= all.num_classes)
      throw std::invalid_argument(all.name + ": label " + std::to_string(label) + " at index " + std::to_string(i) +
                                  " is out of range for " + std::to_string(all.num_classes) + " classes");
    by_class[static_cast<std::size_t>(label)].push_back(i);
  }
  Generator gen(seed);
  std::vector<std::int64_t> train, test;
  for (auto& members : by_class) {
    gen.shuffle(members);
    const auto n_test = static_cast<std::size_t>(std::llround(static_cast<double>(members.size()) * test_fraction));
    test.insert(test.end(), members.begin(), members.begin() + static_cast<std::ptrdiff_t>(n_test));
    train.insert(train.end(), members.begin() + static_cast<std::ptrdiff_t>(n_test), members.end());
  }
  // Each split keeps the samples in their original order; only the choice is random.
  std::sort(train.begin(), train.end());
  std::sort(test.begin(), test.end());
  return {all.subset(train), all.subset(test)};
}

}  // namespace zg
