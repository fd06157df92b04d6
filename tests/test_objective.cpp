// `zoograd train --loss NAME --set key=value`: every classification loss of the catalog trains a
// classifier, fed as its ClassifierUse says; bad names and settings are refused with a clear line.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "zoograd/core/ops.h"
#include "zoograd/layers/cosine_linear.h"
#include "zoograd/layers/linear.h"
#include "zoograd/losses/angular.h"
#include "zoograd/losses/classification.h"
#include "zoograd/losses/hinge.h"
#include "zoograd/tests/test_util.h"
#include "zoograd/train/run/models.h"
#include "zoograd/train/run/objective.h"
#include "zoograd/train/run/trainer.h"

namespace {

namespace fs = std::filesystem;
using namespace zg;
using zg_tests::error_of;

TrainConfig moons(const std::string& loss, const fs::path& out) {
  TrainConfig c;
  c.data = "moons";
  c.hidden = {32, 32};
  c.loss = loss;
  c.embedding_dim = 8;
  c.epochs = 10;
  c.threads = 1;
  c.quiet = true;
  c.out = out.string();
  return c;
}

// A linear classifier 3 -> 4 and a batch of 5, in float64.
struct Batch {
  Generator gen{3};
  Sequential model{std::make_shared<Linear>(3, 4, gen)};
  Tensor x = randn({5, 3}, DType::Float64, gen);
  Tensor y = tensor({0, 3, 1, 1, 2}, {5}, DType::Int64);
  Batch() { model.to(DType::Float64); }
  Tensor scores() { return model(x); }
};

double loss_of(const std::string& name, Batch& b, const LossParams& params = {}) {
  return Objective(name, params)(b.model, b.x, b.y, 0).loss.item();
}

TEST(Objective, NamesAreEveryClassificationHingeAndAngularLoss) {
  std::vector<std::string> expected;
  for (const LossSpec& s : loss_catalog())
    if (s.family == "classification" || s.family == "hinge" || s.family == "angular") expected.push_back(s.name);
  EXPECT_EQ(Objective::names(), expected);
  EXPECT_EQ(expected.size(), 22u);
}

TEST(Objective, LogProbabilityLossesOnOneHotTargetsEqualCrossEntropy) {
  Batch b;
  double ce = cross_entropy(b.scores(), b.y).item();
  EXPECT_NEAR(loss_of("cross_entropy", b), ce, 1e-12);
  EXPECT_NEAR(loss_of("nll_loss", b), ce, 1e-12);  // fed log_softmax(z)
  EXPECT_NEAR(loss_of("kl_div", b), ce, 1e-12);    // batchmean of KL(one-hot ‖ softmax) = cross-entropy
}

TEST(Objective, OneVsRestLossesGetOneHotOrSignTargets) {
  Batch b;
  Tensor z = b.scores();
  Tensor one_hot_y = one_hot(b.y, 4, DType::Float64);
  EXPECT_NEAR(loss_of("binary_cross_entropy_with_logits", b), binary_cross_entropy_with_logits(z, one_hot_y).item(),
              1e-12);
  EXPECT_NEAR(loss_of("binary_cross_entropy", b), binary_cross_entropy(sigmoid(z), one_hot_y).item(), 1e-12);
  EXPECT_NEAR(loss_of("hinge_loss", b, {{"margin", 0.5}}), hinge_loss(z, one_hot_y * 2.0 - 1.0, {.margin = 0.5}).item(),
              1e-12);
  EXPECT_NEAR(loss_of("multi_margin_loss", b), multi_margin_loss(z, b.y).item(), 1e-12);
}

TEST(Objective, AngularLossesTakeTheFeaturesAndTheHeadWeight) {
  Generator gen(5);
  TrainConfig c;
  c.model = "mlp";
  c.hidden = {6};
  c.loss = "cosface_loss";
  c.embedding_dim = 3;
  std::shared_ptr<Sequential> model = build_model(c, {2}, 4, gen);
  ASSERT_EQ(model->size(), 5u);  // Flatten, Linear, ReLU, Linear to 3 features, the head
  Tensor x = randn({5, 2}, DType::Float32, gen);
  Tensor y = tensor({0, 3, 1, 1, 2}, {5}, DType::Int64);
  Objective objective("cosface_loss", {{"m", 0.2}});
  ObjectiveOutput out = objective(*model, x, y, 0);

  Tensor features = x;
  for (std::size_t i = 0; i + 1 < model->size(); ++i) features = (*model)[i](features);
  Tensor w = (*model)[model->size() - 1].named_parameters().at(0).second;
  EXPECT_EQ(w.shape(), (Shape{4, 3}));
  EXPECT_NEAR(out.loss.item(), cosface_loss(features, w, y, {.m = 0.2}).item(), 1e-6);
  std::vector<double> got = out.scores.to_vector(), want = cos_theta(features, w).to_vector();
  for (std::size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-6) << i;

  out.loss.backward();
  EXPECT_TRUE(w.grad().defined());  // the head is trained
}

TEST(Objective, SphereFaceAnnealsLambdaWithTheStep) {
  Objective plain("sphereface_loss", {});
  EXPECT_DOUBLE_EQ(*plain.lambda(0), 1000.0);
  EXPECT_DOUBLE_EQ(*plain.lambda(100), 1000.0 / (1 + 0.12 * 100));
  EXPECT_DOUBLE_EQ(*plain.lambda(100000), 5.0);
  EXPECT_DOUBLE_EQ(*Objective("sphereface_loss", {{"iteration", 50}}).lambda(50), 1000.0 / (1 + 0.12 * 100));
  EXPECT_FALSE(Objective("cosface_loss", {}).lambda(10).has_value());
}

TEST(Objective, MarginWarmUpGrowsTheAdditiveMarginsWithTheStep) {
  Generator gen(3);
  Sequential model{std::make_shared<Linear>(3, 3, gen), std::make_shared<CosineLinear>(3, 4, gen)};
  model.to(DType::Float64);
  Tensor x = randn({5, 3}, DType::Float64, gen);
  Tensor y = tensor({0, 3, 1, 1, 2}, {5}, DType::Int64);
  auto loss = [&](const std::string& name, const LossParams& p, std::int64_t warm_up, std::int64_t step) {
    Objective o(name, p);
    if (warm_up) o.warm_up_margins(warm_up);
    return o(model, x, y, step).loss.item();
  };
  for (const char* name : {"cosface_loss", "arcface_loss"}) {
    EXPECT_DOUBLE_EQ(loss(name, {{"m", 0.2}}, 100, 0), loss(name, {{"m", 0}}, 0, 0)) << name;
    EXPECT_DOUBLE_EQ(loss(name, {{"m", 0.2}}, 100, 50), loss(name, {{"m", 0.1}}, 0, 0)) << name;
    EXPECT_DOUBLE_EQ(loss(name, {{"m", 0.2}}, 100, 500), loss(name, {{"m", 0.2}}, 0, 0)) << name;
  }
  EXPECT_DOUBLE_EQ(loss("combined_margin_loss", {{"m1", 1.5}, {"m2", 0.2}, {"m3", 0.1}}, 100, 50),
                   loss("combined_margin_loss", {{"m1", 1.25}, {"m2", 0.1}, {"m3", 0.05}}, 0, 0));
  EXPECT_DOUBLE_EQ(loss("sphereface_loss", {}, 100, 0), loss("sphereface_loss", {}, 0, 0));  // λ anneals it instead
}

TEST(Objective, RefusesLossesThatCannotClassifyAndBadSettings) {
  std::string e = error_of([] { Objective("mse_loss", {}); });
  EXPECT_CONTAINS(e, "regression loss \"mse_loss\" cannot train a classifier");
  EXPECT_CONTAINS(e, "arcface_loss");
  EXPECT_CONTAINS(error_of([] { Objective("circle_loss", {}); }), "metric loss \"circle_loss\"");
  EXPECT_CONTAINS(error_of([] { Objective("softmax", {}); }), "unknown loss \"softmax\"; choose one of cross_entropy");
  EXPECT_CONTAINS(error_of([] { Objective("cosface_loss", {{"margin", 1}}); }),
                  "unknown parameter \"margin\"; its parameters: s, m");
  EXPECT_CONTAINS(error_of([] { Objective("cosface_loss", {{"m", -1}}); }), "m must be finite and >= 0, got -1");
  EXPECT_CONTAINS(error_of([] { Objective("lsoftmax_loss", {{"m", 2.5}}); }), "lsoftmax_loss: m: expected a whole number in [1, 100], got 2.5");
}

TEST(Objective, EveryLossTrainsTwoMoons) {
  for (const std::string& name : Objective::names()) {
    zg_tests::TempDir dir;
    TrainResult r = run_train(moons(name, dir.path() / "run"));
    EXPECT_GE(r.test_accuracy, 0.85) << name;  // chance is 0.5; cross-entropy reaches 0.99
  }
}

TEST(Objective, AnAngularRunSavesItsHeadAndLogsLambda) {
  zg_tests::TempDir dir;
  TrainConfig c = moons("sphereface_loss", dir.path() / "run");
  c.epochs = 3;
  TrainResult r = run_train(c);
  Evaluation e = run_eval(r.run_dir, "", nullptr);
  EXPECT_DOUBLE_EQ(e.accuracy, r.test_accuracy);  // the saved model includes the head

  std::ifstream metrics(fs::path(r.run_dir) / "metrics.jsonl");
  std::string line;
  while (std::getline(metrics, line)) {
    nlohmann::json m = nlohmann::json::parse(line);
    EXPECT_DOUBLE_EQ(m.at("lambda").get<double>(), std::max(5.0, 1000.0 / (1 + 0.12 * m.at("step").get<double>())));
  }
  nlohmann::json config = nlohmann::json::parse(std::ifstream(fs::path(r.run_dir) / "config.json"));
  EXPECT_EQ(config.at("loss"), "sphereface_loss");
}

TEST(Objective, ConfigKeepsLossParametersAndChecksTheirTypes) {
  TrainConfig c;
  c.loss = "arcface_loss";
  c.loss_params = {{"m", 0.3}, {"s", 16}};
  c.embedding_dim = 2;
  TrainConfig back = TrainConfig::from_json(c.to_json(), "test");
  EXPECT_EQ(back.loss_params, c.loss_params);
  EXPECT_EQ(back.embedding_dim, 2);
  nlohmann::json bad = c.to_json();
  bad["loss_params"]["m"] = "wide";
  EXPECT_CONTAINS(error_of([&] { TrainConfig::from_json(bad, "cfg.json"); }), "cfg.json");
  bad["loss_params"] = 0.5;
  EXPECT_CONTAINS(error_of([&] { TrainConfig::from_json(bad, "cfg.json"); }), "\"loss_params\" has the wrong type");
}

TEST(Objective, CommandLineRefusesBadLossesWithOneLine) {
  for (const char* args : {"train --data moons --loss mse_loss", "train --data moons --loss cosface_loss --set m",
                           "train --data moons --loss cosface_loss --set m=wide",
                           "train --data moons --loss cosface_loss --set q=1",
                           "train --data moons --loss arcface_loss --set m=-0.5"}) {
    zg_tests::CliRun r = zg_tests::run_cli(args);
    EXPECT_EQ(r.code, 2) << args << ": " << r.out;
    EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << args << ": " << r.out;
  }
  zg_tests::TempDir dir;
  zg_tests::CliRun ok = zg_tests::run_cli("train --data moons --hidden 16 --epochs 2 --quiet --threads 1 --loss "
                                          "cosface_loss --set s=8 --set m=0.1 --embedding-dim 4 --out " +
                                          dir / "run");
  ASSERT_EQ(ok.code, 0) << ok.out;
  nlohmann::json config = nlohmann::json::parse(std::ifstream(dir / "run/config.json"));
  EXPECT_EQ(config.at("loss_params"), (nlohmann::json{{"m", 0.1}, {"s", 8.0}}));
  EXPECT_EQ(config.at("embedding_dim"), 4);
}

}  // namespace
