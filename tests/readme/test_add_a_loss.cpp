// The README's "Add a loss" walkthrough, as written there: the declaration, the definition and the
// catalog row of poly1_loss, checked the way the suite checks the catalog's own rows.
#include <gtest/gtest.h>

#include <cmath>

#include "zoograd/core/gradcheck.h"
#include "zoograd/core/ops.h"
#include "zoograd/layers/linear.h"
#include "zoograd/losses/catalog.h"
#include "zoograd/losses/classification.h"
#include "zoograd/optim/sgd.h"
#include "zoograd/train/run/objective.h"

namespace zg {
#include "poly1_declaration.inc"
#include "poly1_definition.inc"
}  // namespace zg

namespace {

using namespace zg;

const LossSpec& readme_row() {
  static const std::vector<LossSpec> rows = [] {
    std::vector<LossSpec> rows;
#include "poly1_row.inc"
    return rows;
  }();
  return rows.at(0);
}

TEST(AddALoss, TheRowGradchecksUnderEveryReduction) {
  const LossSpec& s = readme_row();
  for (Reduction r : s.reductions) {
    Generator gen(5);
    std::vector<Tensor> in = s.sample(DType::Float64, gen);
    in[0].requires_grad_();
    GradcheckResult g = gradcheck([&](const std::vector<Tensor>& x) { return s.call(x, {{"epsilon", 1.5}}, r); }, in);
    EXPECT_TRUE(g.ok) << reduction_name(r) << ": " << g.message;
  }
}

// Logits (1, 2, 0.5), target 1: p = softmax, ℓ = -log p_1 + ε(1 - p_1), ∂ℓ/∂x = (1 + ε·p_1)(p - e_1).
TEST(AddALoss, ValueAndGradientByHand) {
  const double eps = 2.0;
  double z[] = {1, 2, 0.5}, total = 0, p[3];
  for (double v : z) total += std::exp(v);
  for (int i = 0; i < 3; ++i) p[i] = std::exp(z[i]) / total;
  Tensor x = tensor({1, 2, 0.5}, {1, 3}, DType::Float64).requires_grad_();
  Tensor loss = poly1_loss(x, tensor({1}, {1}, DType::Int64), {.epsilon = eps});
  EXPECT_NEAR(loss.item(), -std::log(p[1]) + eps * (1 - p[1]), 1e-12);
  loss.backward();
  std::vector<double> g = x.grad().to_vector();
  for (int i = 0; i < 3; ++i) EXPECT_NEAR(g[i], (1 + eps * p[1]) * (p[i] - (i == 1)), 1e-12) << i;
}

TEST(AddALoss, EpsilonZeroIsCrossEntropyAndSumIsMeanTimesN) {
  const LossSpec& s = readme_row();
  Generator gen(6);
  std::vector<Tensor> in = s.sample(DType::Float64, gen);
  EXPECT_NEAR(s.call(in, {{"epsilon", 0}}, Reduction::Mean).item(), cross_entropy(in[0], in[1]).item(), 1e-12);
  EXPECT_NEAR(s.call(in, {{"epsilon", 1}}, Reduction::Sum).item(),
              4 * s.call(in, {{"epsilon", 1}}, Reduction::Mean).item(), 1e-12);
}

// What `zoograd train --loss poly1_loss` does with the row: a linear classifier on two separated
// Gaussian blobs learns them.
TEST(AddALoss, TheRowTrainsAClassifier) {
  Objective objective(readme_row(), {{"epsilon", 2}});
  Generator gen(7);
  Sequential model{std::make_shared<Linear>(2, 2, true, gen)};
  Tensor y = randint(0, 2, {256}, gen);
  Tensor x = randn({256, 2}, DType::Float32, gen) + reshape(y.to(DType::Float32) * 4.0 - 2.0, {256, 1});
  SGD sgd(model.parameters(), {0.1});
  double first = 0, last = 0;
  for (int step = 0; step < 50; ++step) {
    ObjectiveOutput out = objective(model, x, y, step);
    (step == 0 ? first : last) = out.loss.item();
    sgd.zero_grad();
    out.loss.backward();
    sgd.step();
  }
  ObjectiveOutput out = objective(model, x, y, 50);
  EXPECT_LT(last, first / 4);
  EXPECT_GE(mean(eq(argmax(out.scores, 1), y)).item(), 0.97);
}

TEST(AddALoss, AMisspeltParameterIsRefused) {
  try {
    Objective(readme_row(), {{"epsilon ", 2}});
    FAIL() << "no error";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("unknown parameter \"epsilon \"; its parameters: epsilon"), std::string::npos)
        << e.what();
  }
}

}  // namespace
