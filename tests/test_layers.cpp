// The layer table: every layer of layers/ gradchecked in float64 with respect to its input and
// its parameters, plus the Module machinery (names, state_dict, train/eval, conversion).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <regex>
#include <set>
#include <sstream>

#include "zoograd/core/gradcheck.h"
#include "zoograd/core/ops.h"
#include "zoograd/layers/all.h"  // every header of layers/, so a new layer's row needs no include
#include "zoograd/layers/check_layer.h"

namespace {

using namespace zg;

struct LayerCase {
  std::string name;   // "Class/variant"
  std::function<std::shared_ptr<Module>(Generator&)> make;
  Shape input;        // float64 input drawn from randn
  bool training = true;
  std::function<void()> before_forward = [] {};  // e.g. reseeding Dropout's generator
};

Generator dropout_gen(3);

std::vector<LayerCase> layer_table() {
  return {
      {"Linear/basic", [](Generator& g) { return std::make_shared<Linear>(4, 3, g); }, {5, 4}},
      {"Linear/batch1_nobias", [](Generator& g) { return std::make_shared<Linear>(3, 2, g, LinearOptions{.bias = false}); }, {1, 3}},
      {"Linear/3d_input", [](Generator& g) { return std::make_shared<Linear>(3, 2, g); }, {2, 2, 3}},
      {"Conv2d/stride_pad", [](Generator& g) { return std::make_shared<Conv2d>(2, 3, 3, g, Conv2dOptions{.stride = 2, .padding = 1}); }, {2, 2, 5, 5}},
      {"Conv2d/batch1_rect", [](Generator& g) { return std::make_shared<Conv2d>(1, 2, Size2{2, 3}, g, Conv2dOptions{.bias = false}); },
       {1, 1, 4, 5}},
      {"MaxPool2d/basic", [](Generator&) { return std::make_shared<MaxPool2d>(2); }, {2, 2, 4, 4}},
      {"AvgPool2d/stride_pad", [](Generator&) { return std::make_shared<AvgPool2d>(3, Size2{2}, 1); }, {1, 2, 5, 5}},
      {"Flatten/basic", [](Generator&) { return std::make_shared<Flatten>(); }, {2, 3, 2}},
      {"Dropout/train", [](Generator&) { return std::make_shared<Dropout>(0.3, dropout_gen); }, {4, 5}, true,
       [] { dropout_gen.manual_seed(3); }},
      {"Dropout/eval", [](Generator&) { return std::make_shared<Dropout>(0.3, dropout_gen); }, {4, 5}, false},
      {"BatchNorm1d/train", [](Generator&) { return std::make_shared<BatchNorm1d>(3); }, {6, 3}},
      {"BatchNorm1d/train_3d", [](Generator&) { return std::make_shared<BatchNorm1d>(2); }, {3, 2, 4}},
      {"BatchNorm1d/eval", [](Generator&) { return std::make_shared<BatchNorm1d>(3); }, {1, 3}, false},
      {"BatchNorm2d/train", [](Generator&) { return std::make_shared<BatchNorm2d>(2); }, {2, 2, 3, 3}},
      {"BatchNorm2d/eval", [](Generator&) { return std::make_shared<BatchNorm2d>(2); }, {1, 2, 2, 2}, false},
      {"ReLU/basic", [](Generator&) { return std::make_shared<ReLU>(); }, {3, 4}},
      {"ReLU/inplace", [](Generator&) { return std::make_shared<ReLU>(true); }, {3, 4}},
      {"PReLU/shared", [](Generator&) { return std::make_shared<PReLU>(); }, {3, 4}},
      {"PReLU/per_channel", [](Generator&) { return std::make_shared<PReLU>(3, 0.1); }, {2, 3, 2, 2}},
      {"Tanh/basic", [](Generator&) { return std::make_shared<Tanh>(); }, {3, 4}},
      {"Sigmoid/basic", [](Generator&) { return std::make_shared<Sigmoid>(); }, {3, 4}},
      {"GELU/basic", [](Generator&) { return std::make_shared<GELU>(); }, {3, 4}},
      {"CosineLinear/basic", [](Generator& g) { return std::make_shared<CosineLinear>(3, 4, g); }, {5, 3}},
      {"CosineLinear/batch1", [](Generator& g) { return std::make_shared<CosineLinear>(2, 3, g); }, {1, 2}},
      {"Sequential/mlp",
       [](Generator& g) {
         return std::make_shared<Sequential>(std::initializer_list<std::shared_ptr<Module>>{
             std::make_shared<Linear>(3, 4, g), std::make_shared<Tanh>(), std::make_shared<Linear>(4, 2, g)});
       },
       {2, 3}},
      {"Sequential/conv_relu_pool",  // ReLU then max-pool, which Sequential runs as max-pool then ReLU
       [](Generator& g) {
         return std::make_shared<Sequential>(std::initializer_list<std::shared_ptr<Module>>{
             std::make_shared<Conv2d>(2, 3, 3, g), std::make_shared<ReLU>(true), std::make_shared<MaxPool2d>(2)});
       },
       {2, 2, 6, 6}},
  };
}

class LayerTable : public ::testing::TestWithParam<LayerCase> {};

// check_layer (layers/check_layer.h): gradcheck in float64 with respect to the input, kept 0.05
// away from 0 so ReLU/PReLU/max-pool kinks and ties stay out of the central differences' reach,
// and to every parameter.
TEST_P(LayerTable, GradcheckInputAndParameters) {
  const LayerCase& c = GetParam();
  GradcheckResult r = check_layer(c.make, c.input, {.training = c.training, .before_forward = c.before_forward});
  EXPECT_TRUE(r.ok) << r.message;
}

INSTANTIATE_TEST_SUITE_P(All, LayerTable, ::testing::ValuesIn(layer_table()),
                         [](const ::testing::TestParamInfo<LayerCase>& param) {
                           return std::regex_replace(param.param.name, std::regex("[^A-Za-z0-9]"), "_");
                         });

// Fails while a layer class declared in layers/*.h has no row in the table.
TEST(LayerTableCoverage, EveryLayerHasARow) {
  std::set<std::string> declared, covered;
  static const std::regex decl(R"(class\s+(\w+)\s*(?:final\s*)?:\s*public\s+(?:Module|BatchNorm)\b)");
  for (const auto& entry : std::filesystem::directory_iterator(std::filesystem::path(ZG_SOURCE_DIR) / "layers")) {
    if (entry.path().extension() != ".h") continue;
    std::ifstream in(entry.path());
    std::stringstream text;
    text << in.rdbuf();
    std::string s = text.str();
    for (std::sregex_iterator it(s.begin(), s.end(), decl), end; it != end; ++it) declared.insert((*it)[1].str());
  }
  declared.erase("BatchNorm");  // the shared base of BatchNorm1d/2d, not constructible
  for (const LayerCase& c : layer_table()) covered.insert(c.name.substr(0, c.name.find('/')));
  EXPECT_GE(declared.size(), 15u);
  for (const std::string& name : declared) EXPECT_TRUE(covered.count(name)) << name << " has no row in layer_table()";
}

// ---- Sequential ----

// Sequential runs ReLU then max-pool as max-pool then ReLU: the same values and gradients, to the
// bit, as the two layers run in their order, with ties, windows without a positive value and zeros.
TEST(Sequential, ReluThenMaxPoolGivesTheValuesAndGradientsOfTheLayersInOrder) {
  for (bool inplace : {false, true}) {
    const std::vector<float> x_values{-1, -2, 0.5f, 0.5f, 3, -3, 0, 0, -4, -1, -1, -2, 0, -5, 2, 2};
    const std::vector<float> g_values{0.25f, -1.5f, 2, 7};
    Tensor x0 = from_data(std::span<const float>(x_values), {1, 1, 4, 4});
    Tensor g = from_data(std::span<const float>(g_values), {1, 1, 2, 2});
    auto relu = std::make_shared<ReLU>(inplace);
    auto pool = std::make_shared<MaxPool2d>(2);
    Sequential both{relu, pool};
    Tensor a = x0.clone().requires_grad_();
    Tensor ya = both.forward(a * 1.0);  // a non-leaf input, as a layer's output would be
    ya.backward(g);
    Tensor b = x0.clone().requires_grad_();
    Tensor yb = pool->forward(relu->forward(b * 1.0));
    yb.backward(g);
    EXPECT_EQ(ya.to_vector(), yb.to_vector()) << "inplace " << inplace;
    EXPECT_EQ(a.grad().to_vector(), b.grad().to_vector()) << "inplace " << inplace;
    EXPECT_EQ(ya.to_vector(), (std::vector<double>{3, 0.5, 0, 2}));
    EXPECT_EQ(a.grad().data<float>()[4], 0.25f);   // the 3 took its window's gradient
    EXPECT_EQ(a.grad().data<float>()[2], -1.5f);   // of the tied 0.5s, the first
    EXPECT_EQ(a.grad().data<float>()[14], 7.0f);   // of the tied 2s, the first
    for (std::int64_t i : {0, 1, 3, 5, 6, 7, 8, 9, 10, 11, 12, 13, 15})  // 12: a window whose maximum is 0
      EXPECT_EQ(a.grad().data<float>()[i], 0.0f) << i;
  }
}

// ---- Module ----

std::shared_ptr<Sequential> small_net(Generator& g) {
  auto inner = std::make_shared<Sequential>(std::initializer_list<std::shared_ptr<Module>>{
      std::make_shared<Linear>(4, 3, g), std::make_shared<BatchNorm1d>(3)});
  return std::make_shared<Sequential>(std::initializer_list<std::shared_ptr<Module>>{
      inner, std::make_shared<ReLU>(), std::make_shared<Linear>(3, 2, g, LinearOptions{.bias = false})});
}

TEST(Module, DottedNamesLikePyTorch) {
  Generator g(1);
  auto net = small_net(g);
  std::vector<std::string> names;
  for (auto& [n, t] : net->state_dict()) names.push_back(n);
  std::vector<std::string> expected{"0.0.weight", "0.0.bias", "0.1.weight", "0.1.bias", "2.weight",
                                    "0.1.running_mean", "0.1.running_var", "0.1.num_batches_tracked"};
  std::sort(names.begin(), names.end());
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(names, expected);
  EXPECT_EQ(net->parameters().size(), 5u);
}

TEST(Module, LoadStateDictCopiesValuesIntoTheSameTensors) {
  Generator g1(1), g2(2);
  auto a = small_net(g1), b = small_net(g2);
  Tensor w = b->named_parameters()[0].second;
  b->load_state_dict(a->state_dict());
  EXPECT_EQ(w.to_vector(), a->named_parameters()[0].second.to_vector());
  EXPECT_NE(w.impl_ptr(), a->named_parameters()[0].second.impl_ptr());
}

TEST(Module, LoadStateDictIsStrictWithPyTorchMessages) {
  Generator g(1);
  auto net = small_net(g);
  NamedTensors state = net->state_dict();
  state.erase(state.begin());                              // drop 0.0.weight
  state.emplace_back("extra.weight", zeros({1}));
  for (auto& [n, t] : state)
    if (n == "2.weight") t = zeros({5, 5});
  try {
    net->load_state_dict(state);
    FAIL() << "expected an error";
  } catch (const std::invalid_argument& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find("Missing key(s) in state_dict: \"0.0.weight\""), std::string::npos) << msg;
    EXPECT_NE(msg.find("Unexpected key(s) in state_dict: \"extra.weight\""), std::string::npos) << msg;
    EXPECT_NE(msg.find("size mismatch for 2.weight: copying a param with shape [5, 5]"), std::string::npos) << msg;
    EXPECT_NE(msg.find("the shape in current model is [2, 3]"), std::string::npos) << msg;
  }
}

TEST(Module, TrainEvalReachesChildrenAndZeroGradDropsGrads) {
  Generator g(1);
  auto net = small_net(g);
  net->eval();
  for (auto& [n, child] : net->named_children()) EXPECT_FALSE(child->is_training()) << n;
  net->train();
  Tensor loss = sum(net->forward(randn({4, 4}, DType::Float32, g)));
  loss.backward();
  for (const Tensor& p : net->parameters()) EXPECT_TRUE(p.grad().defined());
  net->zero_grad();
  for (const Tensor& p : net->parameters()) EXPECT_FALSE(p.grad().defined());
}

TEST(Module, ToFloat64ConvertsParametersAndBuffersInPlace) {
  Generator g(1);
  auto net = small_net(g);
  Tensor w = net->named_parameters()[0].second;
  std::vector<double> before = w.to_vector();
  net->to(DType::Float64);
  EXPECT_EQ(w.dtype(), DType::Float64);
  EXPECT_EQ(w.to_vector(), before);
  for (auto& [n, t] : net->state_dict())
    EXPECT_EQ(t.dtype(), n.find("num_batches") == std::string::npos ? DType::Float64 : DType::Int64) << n;
}

// ---- layer values ----

TEST(Layers, LinearDefaultInitRangeIsPyTorchs) {
  Generator g(5);
  Linear l(100, 50, g);
  for (double v : l.weight.to_vector()) EXPECT_LE(std::abs(v), 0.1 + 1e-7);
  for (double v : l.bias.to_vector()) EXPECT_LE(std::abs(v), 0.1 + 1e-7);
  double max_w = 0;
  for (double v : l.weight.to_vector()) max_w = std::max(max_w, std::abs(v));
  EXPECT_GT(max_w, 0.09);  // fills the range U(-1/√100, 1/√100)
}

TEST(Layers, BatchNormRunningStatisticsFollowPyTorch) {
  BatchNorm1d bn(1, 1e-5, 0.1);
  Tensor x = tensor({1, 2, 3, 4}, {4, 1});
  Tensor y = bn.forward(x);
  // batch mean 2.5, biased var 1.25, unbiased 5/3
  EXPECT_NEAR(bn.running_mean.item(), 0.25, 1e-6);
  EXPECT_NEAR(bn.running_var.item(), 0.9 + 0.1 * 5.0 / 3.0, 1e-6);
  EXPECT_EQ(bn.num_batches_tracked.item(), 1);
  EXPECT_NEAR(y.to_vector()[0], (1 - 2.5) / std::sqrt(1.25 + 1e-5), 1e-5);
  bn.eval();
  Tensor z = bn.forward(tensor({0.25}, {1, 1}));
  EXPECT_NEAR(z.item(), 0.0, 1e-6);
  EXPECT_THROW(bn.forward(zeros({2, 3})), std::invalid_argument);
}

TEST(Layers, DropoutScalesKeptValuesAndIsIdentityInEval) {
  Generator g(9);
  Dropout d(0.25, g);
  Tensor y = d.forward(ones({1000}));
  int kept = 0;
  for (double v : y.to_vector()) {
    EXPECT_TRUE(v == 0.0 || std::abs(v - 1 / 0.75) < 1e-6) << v;
    kept += v != 0;
  }
  EXPECT_NEAR(kept / 1000.0, 0.75, 0.05);
  d.eval();
  EXPECT_EQ(d.forward(ones({5})).to_vector(), std::vector<double>(5, 1.0));
}

TEST(Layers, CosineLinearOutputsCosines) {
  Generator g(1);
  CosineLinear head(2, 2, g);
  head.weight.copy_(tensor({3, 0, 0, -2}, {2, 2}));
  Tensor c = head.forward(tensor({1, 1}, {1, 2}));
  EXPECT_NEAR(c.to_vector()[0], std::sqrt(0.5), 1e-6);
  EXPECT_NEAR(c.to_vector()[1], -std::sqrt(0.5), 1e-6);
}

TEST(Layers, BadShapesNameTheLayer) {
  Generator g(1);
  Linear l(3, 2, g);
  try {
    l.forward(zeros({2, 4}));
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("[2, 4]"), std::string::npos) << e.what();
  }
  PReLU p(3);
  EXPECT_THROW(p.forward(zeros({2, 4})), std::invalid_argument);
  EXPECT_THROW(Linear(0, 2), std::invalid_argument);
}

// nn.ReLU(inplace=True): overwrites its input only where no gradient is being recorded.
TEST(Activation, InplaceReLUOverwritesOnlyOutsideAGraph) {
  ReLU layer(true);
  Tensor x = tensor({-1, 2, -3, 4}, {2, 2});
  {
    NoGradGuard no_grad;
    Tensor y = layer.forward(x);
    EXPECT_EQ(y.to_vector(), (std::vector<double>{0, 2, 0, 4}));
    EXPECT_EQ(x.to_vector(), (std::vector<double>{0, 2, 0, 4}));  // the same storage
  }
  Tensor w = tensor({-1, 2, -3, 4}, {2, 2});
  w.requires_grad_();
  Tensor y = layer.forward(w);
  EXPECT_EQ(w.to_vector(), (std::vector<double>{-1, 2, -3, 4}));  // kept for the backward
  sum(y).backward();
  EXPECT_EQ(w.grad().to_vector(), (std::vector<double>{0, 1, 0, 1}));
}

TEST(Activation, InplaceReluRefusesATensorThatNeedsAGradient) {
  Tensor w = ones({2, 3});
  w.requires_grad_();
  try {
    relu_(w);
    FAIL() << "relu_ on a tensor that requires grad should throw";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("[2, 3]"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("use relu(x)"), std::string::npos) << e.what();
  }
  NoGradGuard no_grad;
  EXPECT_EQ(relu_(w).to_vector(), std::vector<double>(6, 1.0));
}

}  // namespace
