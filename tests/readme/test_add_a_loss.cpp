// The README's "Add a loss" walkthrough, as written there: its function and its row, put where the
// README says in copies of losses/classification.h and .cpp that this program is built with in
// place of the tree's (tests/readme/CMakeLists.txt). The catalog then holds poly1_loss as it would
// after the edit, and nothing here registers it.
#include <gtest/gtest.h>

#include <cmath>
#include <sstream>

#include <nlohmann/json.hpp>

#include "zoograd/core/ops.h"
#include "zoograd/layers/linear.h"
#include "zoograd/losses/catalog.h"
#include "zoograd/losses/check_loss.h"
#include "zoograd/losses/classification.h"
#include "zoograd/optim/sgd.h"
#include "zoograd/train/loss/loss_tool.h"
#include "zoograd/train/run/objective.h"

namespace {

using namespace zg;

const LossSpec& readme_row() { return find_loss("poly1_loss"); }

// What tests/test_loss_generic.cpp runs on every row of the catalog, so the row needs no test code.
TEST(AddALoss, TheCatalogHasTheRowAndItPassesTheGenericChecks) {
  EXPECT_EQ(readme_row().family, "classification");
  const LossCheck check = check_loss(readme_row());
  EXPECT_TRUE(check.ok()) << check.text();
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

  // `zoograd loss eval poly1_loss --set epsilon=2` and `zoograd loss list` know it too.
  std::istringstream json_in(R"({"inputs": {"input": [[1, 2, 0.5]], "target": [1]}})");
  nlohmann::json out = nlohmann::json::parse(loss_eval({.name = "poly1_loss", .set = {"epsilon=2"}}, json_in));
  EXPECT_NEAR(out["loss"].get<double>(), -std::log(p[1]) + eps * (1 - p[1]), 1e-12);
  EXPECT_NE(loss_list(ListFormat::Markdown).find("| `poly1_loss` | classification |"), std::string::npos);
}

TEST(AddALoss, EpsilonZeroIsCrossEntropy) {
  const LossSpec& s = readme_row();
  Generator gen(6);
  std::vector<Tensor> in = s.sample(DType::Float64, gen);
  EXPECT_NEAR(s.call(in, {{"epsilon", 0}}, Reduction::Mean).item(), cross_entropy(in[0], in[1]).item(), 1e-12);
}

// What `zoograd train --loss poly1_loss` does with the row: a linear classifier on two separated
// Gaussian blobs learns them.
TEST(AddALoss, TheRowTrainsAClassifier) {
  Objective objective(readme_row(), {{"epsilon", 2}});
  Generator gen(7);
  Sequential model{std::make_shared<Linear>(2, 2, gen)};
  Tensor y = randint(0, 2, {256}, gen);
  Tensor x = randn({256, 2}, DType::Float32, gen) + reshape(y.to(DType::Float32) * 4.0 - 2.0, {256, 1});
  SGD sgd(model.parameters(), {.lr = 0.1});
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
