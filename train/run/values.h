#pragma once
// The one door for numbers from outside the program. Every value of a flag, a config key, a `--set`
// and `zoograd loss eval`'s JSON is read here, from its text, and checked against a ValueRange
// (losses/catalog.h) before anything uses it: a value that is not a number, not finite, fractional
// where a whole number is needed, or out of range throws UsageError naming where it came from
// ("--epochs", "run/config.json: setting \"epochs\"", "input \"target\"[2]"), the value as given
// and the accepted range. The command line turns a UsageError into exit code 2.
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "zoograd/losses/catalog.h"

namespace zg {

// A bad value, setting or command line found while running: the command line's exit code 2.
struct UsageError : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

// The ranges the programs' flags share (train, margins, demo). A size (a layer width, a batch) is
// at most 2^24; whether a whole model fits in memory is checked when it is built (train/run/models.h).
inline const ValueRange kEpochRange = ValueRange::whole(1, 1'000'000);
inline const ValueRange kSizeRange = ValueRange::whole(1, 1 << 24);
inline const ValueRange kLearningRateRange = ValueRange::positive(1000);
inline const ValueRange kMomentumRange{ValueRange::Kind::Real, 0, 1, false, true};  // [0, 1)
inline const ValueRange kWeightDecayRange = ValueRange::non_negative(1000);
inline const ValueRange kClipRange = ValueRange::non_negative(1e6);  // 0: no clipping
inline const ValueRange kThreadRange = ValueRange::whole(0, 1024);

// The number the whole of text spells ("12", "-0.5", "1e300", "nan", "inf"); nothing for anything
// else ("", " 1", "12abc", "ten").
std::optional<double> parse_number(const std::string& text);

// A number of the kind and range given.
double number_in(const std::string& what, const std::string& text, const ValueRange& range);
// A whole number in range (range.kind is Whole).
std::int64_t whole_in(const std::string& what, const std::string& text, const ValueRange& range);
// A random seed: a whole number in [0, 2^64 - 1], every digit kept.
std::uint64_t seed_from(const std::string& what, const std::string& text);
// A switch: 0, 1, false or true.
// A JSON value comes to these functions as its dump(): a number as written (every digit of an
// integer), true and false as such, anything else as JSON ("\"10\"", "[1]") that no number reads as.
bool switch_from(const std::string& what, const std::string& text);

// "key=value" settings (--set) as loss parameters: each value any number (parse_number); the loss's
// own ranges are checked where the loss is known (with_defaults). Throws naming a malformed one.
LossParams loss_settings(const std::string& what, const std::vector<std::string>& settings);

}  // namespace zg
