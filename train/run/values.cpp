#include "zoograd/train/run/values.h"

#include <cctype>
#include <charconv>
#include <cstdlib>
#include <limits>

namespace zg {

namespace {

// How a refused value is shown: as written when it reads as a number or is JSON already (a config
// file's "10" or [1]), quoted when not.
std::string as_given(const std::string& text) {
  return parse_number(text) || nlohmann::json::accept(text) ? text : nlohmann::json(text).dump();
}

[[noreturn]] void refuse(const std::string& what, const std::string& expected, const std::string& text) {
  throw UsageError(what + ": expected " + expected + ", got " + as_given(text));
}

}  // namespace

std::optional<double> parse_number(const std::string& text) {
  // strtod would skip leading spaces and read a prefix; only the whole text counts.
  if (text.empty() || std::isspace(static_cast<unsigned char>(text[0]))) return std::nullopt;
  char* end = nullptr;
  double v = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size()) return std::nullopt;
  return v;
}

double number_in(const std::string& what, const std::string& text, const ValueRange& range) {
  std::optional<double> v = parse_number(text);
  if (!v || !range.contains(*v)) refuse(what, range.text(), text);
  return *v;
}

std::int64_t whole_in(const std::string& what, const std::string& text, const ValueRange& range) {
  // Ranges of whole numbers lie within ±2^53, where a double holds every integer exactly.
  return static_cast<std::int64_t>(number_in(what, text, range));
}

std::uint64_t seed_from(const std::string& what, const std::string& text) {
  std::uint64_t seed = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), seed);
  if (!text.empty() && ec == std::errc() && end == text.data() + text.size()) return seed;
  // Written another way ("1e3", "7.0"): a whole number a double holds exactly.
  const ValueRange exact = ValueRange::whole(0, 9007199254740992.0);
  if (std::optional<double> v = parse_number(text); v && exact.contains(*v)) return static_cast<std::uint64_t>(*v);
  refuse(what, "a whole number in [0, " + std::to_string(std::numeric_limits<std::uint64_t>::max()) + "]", text);
}

bool switch_from(const std::string& what, const std::string& text) {
  if (text == "1" || text == "true") return true;
  if (text == "0" || text == "false") return false;
  refuse(what, "0, 1, false or true", text);
}

LossParams loss_settings(const std::string& what, const std::vector<std::string>& settings) {
  LossParams params;
  for (const std::string& kv : settings) {
    auto eq_at = kv.find('=');
    if (eq_at == std::string::npos || eq_at == 0)
      throw UsageError(what + ": expected key=value (e.g. margin=0.5), got " + nlohmann::json(kv).dump());
    std::optional<double> v = parse_number(kv.substr(eq_at + 1));
    if (!v) refuse(what + ": " + kv.substr(0, eq_at), "a number", kv.substr(eq_at + 1));
    params[kv.substr(0, eq_at)] = *v;
  }
  return params;
}

}  // namespace zg
