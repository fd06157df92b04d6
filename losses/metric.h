#pragma once
// Metric-learning losses: they shape an embedding space rather than score classes. Pairs, triplets
// or whole batches of embeddings are compared by a distance or a cosine similarity, and the loss
// pulls same-class (positive) pairs together and pushes different-class (negative) pairs apart.
// Every loss returns one value per pair, triplet or anchor under `none` ((N), or the input's shape
// for margin_ranking_loss); `mean` averages those N values and `sum` adds them (no batchmean:
// PyTorch has it only for kl_div).
//
// Cosine similarities of embeddings are cos(a, b) = â·b̂ with x̂ = x / max(‖x‖, 1e-12)
// (F.normalize), so a zero embedding has similarity 0 to everything and a finite gradient.
#include "zoograd/losses/reduction.h"

namespace zg {

// ---- pairs and triplets ----

struct ContrastiveLossOptions {
  double margin = 1.0;  // dissimilar pairs closer than this are pushed apart; >= 0
  double eps = 1e-12;   // smooths the distance, d = √(‖x1 - x2‖² + eps), so its gradient is finite at 0
  Reduction reduction = Reduction::Mean;
  double similar_label = 1;  // the label of a similar pair: 1 (default), or 0 as Hadsell et al. and seed 002
  bool half = false;         // true: the paper's ½ on both terms
};

// Hadsell, Chopra & LeCun (2006), with label 1 = similar (s_n = 1 for a similar pair, else 0):
//   ℓ_n = s_n·‖x1_n - x2_n‖² + (1 - s_n)·max(0, margin - d_n)²,   d_n = √(‖x1_n - x2_n‖² + eps)
// x1, x2: (N, D); label: (N) of 0/1. The paper (and seed 002) halves both terms and labels similar
// pairs Y = 0: half = true and similar_label = 0 give exactly its
//   ℓ = (1 - Y)·½D² + Y·½·max(0, M - D)²,   ∂ℓ/∂D = D (similar), -(M - D) for D < M (dissimilar)
// (the seed's -D for the dissimilar branch is a slip). The defaults (no ½, 1 = similar) give values
// and gradients twice the paper's. Similar pairs use the exact squared distance (zero at x1 = x2).
Tensor contrastive_loss(const Tensor& x1, const Tensor& x2, const Tensor& label, const ContrastiveLossOptions& options = {});

struct TripletMarginLossOptions {
  double margin = 1.0;
  double p = 2.0;      // the norm degree of the distance, > 0
  double eps = 1e-6;   // added to the difference, as torch.pairwise_distance does
  bool swap = false;   // Balntas et al. (2016): also measure the negative from the positive, keep the nearer
  Reduction reduction = Reduction::Mean;
};

// F.triplet_margin_loss:   ℓ_n = max(0, margin + d(a_n, p_n) - d(a_n, n_n)),   d(x, y) = ‖x - y + eps‖_p
// (with swap, d(a_n, n_n) becomes min(d(a_n, n_n), d(p_n, n_n))). anchor, positive, negative:
// (N, D), or (D) for a single triplet (then `none` gives a scalar). At a difference of exactly 0
// (possible only with eps = 0) the distance's gradient is taken as 0, as PyTorch's norm does.
Tensor triplet_margin_loss(const Tensor& anchor, const Tensor& positive, const Tensor& negative,
                           const TripletMarginLossOptions& options = {});

// ---- circle loss (Sun et al., CVPR 2020) ----

struct CircleLossOptions {
  double m = 0.25;       // the relaxation margin
  double gamma = 256.0;  // the scale factor, > 0
  // The paper treats α_p, α_n as constants in back-propagation. Then the gradient is NOT the
  // derivative of the value (finite differences of the loss disagree with it); false differentiates
  // through α as well, which gives the true derivative of the same value.
  bool detach_weights = true;
  Reduction reduction = Reduction::Mean;
};

// Sun et al. (2020), eq. (6), with one row of similarity scores per anchor:
//   ℓ_n = log[1 + Σ_j exp(γ α_n^j (s_n^j - Δ_n)) · Σ_i exp(-γ α_p^i (s_p^i - Δ_p))]
//       = softplus(logsumexp_j γ α_n^j (s_n^j - Δ_n) + logsumexp_i -γ α_p^i (s_p^i - Δ_p))
//   α_p = [1 + m - s_p]_+,  α_n = [s_n + m]_+,  Δ_p = 1 - m,  Δ_n = m
// sp: (N, K) positive scores, sn: (N, L) negative scores, K, L >= 1. Finite at γ = 256 and beyond:
// nothing is exponentiated outside logsumexp and softplus.
Tensor circle_loss(const Tensor& sp, const Tensor& sn, const CircleLossOptions& options = {});

struct UnifiedLossOptions {
  double m = 0.25;       // the margin m
  double gamma = 256.0;  // the scale factor γ > 0
  bool factored = true;  // false: the double sum over every (positive, negative) pair
  Reduction reduction = Reduction::Mean;
};

// Seed 000's unified loss L_u (Sun et al. 2020, eq. 1), circle loss without its weights α: with one
// row of K positive and L negative similarity scores per anchor,
//   L_u = log[1 + Σ_i Σ_j exp(γ(s_n^j - s_p^i + m))]                  (double sum: K·L pairs)
//       = log[1 + Σ_j exp(γ(s_n^j + m))·Σ_i exp(-γ s_p^i)]           (factored: K + L terms)
// since exp(a - b) = exp(a)·exp(-b) and the double sum of a product of separate factors is the
// product of the sums. Both are softplus of a logsumexp (over the (N, K·L) pair logits, or the sum
// of the two logsumexps), so γ = 256 overflows neither. As γ → ∞, L_u/γ → [max_j s_n^j - min_i s_p^i
// + m]_+ (seed 000's balance remark). K = 1 with s_p = cos θ_y and s_n = the other classes' cosines is
// cosface_loss with s = γ. sp: (N, K), sn: (N, L), K, L >= 1.
Tensor unified_loss(const Tensor& sp, const Tensor& sn, const UnifiedLossOptions& options = {});

// The batch form: every embedding is an anchor, its positives are the other embeddings with its
// label and its negatives those with another label; s = cosine similarity. An anchor without a
// positive or without a negative has no pair, an empty sum, and ℓ = log(1 + 0) = 0 with gradient 0
// (pytorch-metric-learning's CircleLoss gives it 0 too). `mean` divides by N, counting those anchors
// (pytorch-metric-learning's default reducer averages over the nonzero losses only).
// embeddings: (N, D); labels: (N) int64 class ids of any value.
Tensor circle_loss_from_embeddings(const Tensor& embeddings, const Tensor& labels, const CircleLossOptions& options = {});

// ---- batch losses ----

struct InfoNCELossOptions {
  double temperature = 0.1;  // τ > 0
  Reduction reduction = Reduction::Mean;
};

// InfoNCE (van den Oord et al., 2018), the N-pair loss (Sohn, 2016) with cosine similarities: key_n
// is query_n's positive and the other keys are its negatives.
//   ℓ_n = -log softmax_j(cos(q_n, k_j) / τ)[n] = cross_entropy(Q̂ K̂ᵀ / τ, n)
// query, key: (N, D); both are L2-normalized (F.normalize) before the (N, N) product.
Tensor info_nce_loss(const Tensor& query, const Tensor& key, const InfoNCELossOptions& options = {});

struct MultiSimilarityLossOptions {
  double alpha = 2.0;  // > 0, the weight of positive pairs
  double beta = 50.0;  // > 0, the weight of negative pairs
  double base = 0.5;   // λ, the similarity the pairs are measured from
  Reduction reduction = Reduction::Mean;
};

// Wang et al. (CVPR 2019), eq. (8), for every anchor i with positives P_i and negatives N_i:
//   ℓ_i = 1/α · log(1 + Σ_{k∈P_i} exp(-α (S_ik - λ))) + 1/β · log(1 + Σ_{k∈N_i} exp(β (S_ik - λ)))
// S = cosine similarities; each term is softplus(logsumexp(·)) / weight, so nothing overflows.
// Without the paper's pair mining (its eqs. 5-6): every positive and negative pair counts, as in
// pytorch-metric-learning's MultiSimilarityLoss used without a miner. An empty P_i or N_i adds 0.
// embeddings: (N, D); labels: (N) int64 class ids of any value.
Tensor multi_similarity_loss(const Tensor& embeddings, const Tensor& labels, const MultiSimilarityLossOptions& options = {});

// ---- PyTorch's pairwise losses ----

struct CosineEmbeddingLossOptions {
  double margin = 0.0;
  Reduction reduction = Reduction::Mean;
};

// F.cosine_embedding_loss:   ℓ_n = 1 - cos_n if y_n = 1,   max(0, cos_n - margin) if y_n = -1
//   cos_n = x1_n·x2_n / √((‖x1_n‖² + ε)(‖x2_n‖² + ε)),   ε = 1e-12 in float (PyTorch's EPSILON)
// input1, input2: (N, D) with target (N), or (D) with target (). PyTorch gives 0 for any other
// target value; we refuse it.
Tensor cosine_embedding_loss(const Tensor& input1, const Tensor& input2, const Tensor& target,
                             const CosineEmbeddingLossOptions& options = {});

struct MarginRankingLossOptions {
  double margin = 0.0;
  Reduction reduction = Reduction::Mean;
};

// F.margin_ranking_loss: y = 1 says input1 should rank higher, y = -1 that input2 should.
//   ℓ = max(0, -y·(x1 - x2) + margin)
// input1, input2, target: one shape (PyTorch broadcasts tensors of equal rank; we require equal
// shapes). Targets must be ±1, which PyTorch documents but does not check.
Tensor margin_ranking_loss(const Tensor& input1, const Tensor& input2, const Tensor& target,
                           const MarginRankingLossOptions& options = {});

}  // namespace zg
