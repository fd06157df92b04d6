// Seed 000's unified loss L_u (Sun et al. 2020, eq. 1): declared in losses/metric.h, family "metric".
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "zoograd/losses/catalog.h"
#include "zoograd/losses/checks.h"
#include "zoograd/losses/metric.h"

namespace zg {

namespace {

[[noreturn]] void fail(const std::string& what) { checks::fail("unified_loss", what); }

}  // namespace

Tensor unified_loss(const Tensor& sp, const Tensor& sn, const UnifiedLossOptions& o) {
  checks::check_reduction(o.reduction, "unified_loss");
  if (!is_floating(sp.dtype()) || !is_floating(sn.dtype()))
    fail(std::string("sp and sn must be float32 or float64, got ") + dtype_name(sp.dtype()) + " and " +
         dtype_name(sn.dtype()));
  if (sp.dim() != 2 || sn.dim() != 2 || sp.size(0) != sn.size(0) || sp.size(1) == 0 || sn.size(1) == 0)
    fail("expected sp (N, K) and sn (N, L) with K, L >= 1, one row of positive and negative scores per anchor, got " +
         to_string(sp.shape()) + " and " + to_string(sn.shape()));
  if (!std::isfinite(o.m) || !(o.gamma > 0) || !std::isfinite(o.gamma))
    fail("m must be finite and gamma positive and finite, got m = " + checks::num(o.m) + ", gamma = " +
         checks::num(o.gamma));
  Tensor exponent;  // log of the sum inside log[1 + ·]
  if (o.factored) {
    // log Σ_j e^{γ(s_n^j + m)} + log Σ_i e^{-γ s_p^i}
    exponent = logsumexp(o.gamma * (sn + o.m), {1}) + logsumexp(-o.gamma * sp, {1});
  } else {
    // γ(s_n^j - s_p^i + m) for every pair: (N, K, L), one row of K·L per anchor.
    Tensor pairs = o.gamma * (unsqueeze(sn, 1) - unsqueeze(sp, 2) + o.m);
    exponent = logsumexp(reshape(pairs, {sp.size(0), sp.size(1) * sn.size(1)}), {1});
  }
  return reduce(softplus(exponent), o.reduction);
}

std::vector<LossSpec> unified_losses() {
  // Positive scores in [0.2, 0.95), negative ones in [-0.15, 0.6): the typical ranges of cosines.
  auto sample = [](DType dtype, Generator& gen) {
    std::vector<double> sp(6), sn(12);
    for (double& v : sp) v = 0.2 + 0.75 * gen.uniform();
    for (double& v : sn) v = -0.15 + 0.75 * gen.uniform();
    return std::vector<Tensor>{tensor(sp, {3, 2}, dtype), tensor(sn, {3, 4}, dtype)};
  };
  auto call = [](const std::vector<Tensor>& in, const LossParams& p, Reduction r) {
    return unified_loss(in[0], in[1],
                        {.m = p.at("m"), .gamma = p.at("gamma"), .factored = switch_param("unified_loss", p, "factored"),
                         .reduction = r});
  };
  std::vector<LossSpec> rows{
      {"unified_loss",
       "metric",
       "log[1 + Σ_i Σ_j exp(γ(s_n^j - s_p^i + m))] = log[1 + Σ_j exp(γ(s_n^j + m))·Σ_i exp(-γ s_p^i)] "
       "(seed 000's L_u: circle loss without α)",
       {{"sp", "(N, K) positive scores", DType::Float32, true}, {"sn", "(N, L) negative scores", DType::Float32, true}},
       {{"m", 0.25, "the margin m"},
        {"gamma", 256.0, "the scale factor γ > 0"},
        {"factored", 1.0, "1: the factored form (K + L terms); 0: the double sum over all K·L pairs",
         ValueRange::boolean()}},
       {Reduction::None, Reduction::Mean, Reduction::Sum},
       sample,
       call}};
  rows.back().gradcheck_variants = {{{"factored", 0.0}}, {{"gamma", 8.0}}};
  return rows;
}

}  // namespace zg
