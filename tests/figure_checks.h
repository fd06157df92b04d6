#pragma once
// What every figure must satisfy, checked on the figure's record of what it drew: its text lies
// inside the canvas and is at least 14 px; it is at most 1240 px wide, so a page shows it at its own
// size (text at least 14 px) on a 1280-pixel screen; every axis label names a unit in
// parentheses; a plot that asks for equal aspect has it; loss and accuracy never share an axes.
#include <gtest/gtest.h>
#include <stb/stb_image.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "zoograd/train/plot/figure.h"

namespace zg_tests {

// A PNG's pixels, for checking what a figure drew where.
struct Decoded {
  int width = 0, height = 0;
  std::vector<std::uint8_t> rgb;
  zg::Rgb at(double x, double y) const {
    const auto i = (static_cast<std::size_t>(y) * static_cast<std::size_t>(width) + static_cast<std::size_t>(x)) * 3;
    return {rgb[i], rgb[i + 1], rgb[i + 2]};
  }
};

inline Decoded decode_png(const std::string& png) {
  Decoded d;
  int channels = 0;
  std::unique_ptr<stbi_uc, void (*)(void*)> pixels(
      stbi_load_from_memory(reinterpret_cast<const stbi_uc*>(png.data()), static_cast<int>(png.size()), &d.width,
                            &d.height, &channels, 3),
      stbi_image_free);
  if (!pixels) throw std::runtime_error(std::string("not a PNG: ") + stbi_failure_reason());
  d.rgb.assign(pixels.get(), pixels.get() + static_cast<std::size_t>(d.width) * static_cast<std::size_t>(d.height) * 3);
  return d;
}

inline void expect_readable(const zg::Figure& f, const std::string& name) {
  SCOPED_TRACE(name);
  EXPECT_LE(f.width(), 1240);
  EXPECT_FALSE(f.texts().empty());
  for (const zg::TextBox& t : f.texts()) {
    EXPECT_GE(t.size, zg::kMinTextSize) << t.text;
    EXPECT_GE(t.x0, 0) << t.text;
    EXPECT_GE(t.y0, 0) << t.text;
    EXPECT_LE(t.x1, f.width()) << t.text;
    EXPECT_LE(t.y1, f.height()) << t.text;
  }
  auto has_unit = [](const std::string& label) {
    const std::size_t open = label.rfind('(');
    return open != std::string::npos && open > 0 && label.ends_with(")") && label.size() > open + 2;
  };
  for (const zg::AxesRecord& a : f.axes()) {
    SCOPED_TRACE(a.title);
    EXPECT_TRUE(has_unit(a.x_label)) << "x axis label \"" << a.x_label << "\" names no unit";
    EXPECT_TRUE(has_unit(a.y_label)) << "y axis label \"" << a.y_label << "\" names no unit";
    if (a.equal_aspect) {
      const double per_x = (a.right - a.left) / (a.x1 - a.x0), per_y = (a.bottom - a.top) / (a.y1 - a.y0);
      EXPECT_NEAR(per_x, per_y, 1e-6 * per_x) << "pixels per unit on x and y";
    }
    bool loss = a.y_label.find("loss") != std::string::npos, accuracy = a.y_label.find("accuracy") != std::string::npos;
    for (const std::string& s : a.series) {
      loss = loss || s.find("loss") != std::string::npos;
      accuracy = accuracy || s.find("accuracy") != std::string::npos;
    }
    EXPECT_FALSE(loss && accuracy) << "loss and accuracy share the axes";
  }
}

}  // namespace zg_tests
