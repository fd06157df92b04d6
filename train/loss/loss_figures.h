#pragma once
// The figures of `zoograd loss plot` (private to train/loss/loss_plot.cpp and its tests): each builds
// its picture from its settings (the defaults of loss_figures(), with --set applied).
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "zoograd/train/plot/figure.h"

namespace zg {

using FigureSettings = std::map<std::string, double>;

struct LossPicture {
  std::string name, heading, text;
  Figure figure;
};

LossPicture regression_loss_figure(const FigureSettings& s);
LossPicture regression_grad_figure(const FigureSettings& s);
LossPicture focal_figure(const FigureSettings& s);
LossPicture ce_vs_mse_figure(const FigureSettings& s);
LossPicture target_logit_figure(const FigureSettings& s);
// The same with the ArcFace paper's settings (SphereFace m = 4 at λ = 5, θ from 20° to 100°).
LossPicture target_logit_arcface_figure(const FigureSettings& s);
LossPicture theta_boundaries_figure(const FigureSettings& s);
LossPicture cos_boundaries_figure(const FigureSettings& s);
LossPicture normface_figure(const FigureSettings& s, const std::vector<std::int64_t>& classes);
LossPicture circle_figure(const FigureSettings& s);

}  // namespace zg
