#pragma once
// Learning-rate schedules as plain functions of the epoch (0-based), PyTorch's formulas:
//   step:       lr·γ^⌊e/step_size⌋                       (StepLR)
//   multistep:  lr·γ^(number of milestones ≤ e)          (MultiStepLR)
//   cosine:     η_min + (lr - η_min)·(1 + cos(π·e/T))/2    (CosineAnnealingLR, closed form)
//   a linear warm-up multiplies any of them by f + (1 - f)·e/W for e < W (LinearLR's ramp).
#include <cstdint>
#include <string>
#include <vector>

namespace zg {

struct Schedule {
  enum class Kind { Constant, Step, MultiStep, Cosine } kind = Kind::Constant;
  std::int64_t step_size = 1;               // Step
  std::vector<std::int64_t> milestones;     // MultiStep
  double gamma = 0.1;                       // Step, MultiStep
  std::int64_t t_max = 1;                   // Cosine
  double eta_min = 0.0;                     // Cosine
  std::int64_t warmup_epochs = 0;           // linear warm-up, any kind
  double warmup_start_factor = 1.0 / 3.0;   // PyTorch LinearLR's default

  double lr_at(double base_lr, std::int64_t epoch) const;

  // Parses "constant", "step:S[:G]", "multistep:M1,M2,...[:G]", "cosine:T[:MIN]", each optionally
  // followed by "+warmup:W"; throws naming the text and the expected forms.
  static Schedule parse(const std::string& text);
  std::string str() const;  // parse(str()) gives the same schedule
};

}  // namespace zg
