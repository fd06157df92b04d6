// The README's "Add a layer" walkthrough, as written there: its two files and its table row.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <memory>

#include "zoograd/core/gradcheck.h"
#include "zoograd/core/ops.h"
#include "zoograd/layers/swish.h"

namespace {

using namespace zg;

struct LayerCase {
  std::string name;
  std::function<std::shared_ptr<Module>(Generator&)> make;
  Shape input;
};

const LayerCase kRows[] = {
#include "layer_table_row.inc"
};
const LayerCase& kRow = kRows[0];

TEST(AddALayer, TheReadmeRowGradchecks) {
  Generator gen(11);
  std::shared_ptr<Module> layer = kRow.make(gen);
  layer->to(DType::Float64);
  std::vector<Tensor> inputs{randn(kRow.input, DType::Float64, gen).requires_grad_()};
  for (const Tensor& p : layer->parameters()) inputs.push_back(p);
  ASSERT_EQ(inputs.size(), 2u);
  GradcheckResult r = gradcheck([&](const std::vector<Tensor>&) { return layer->forward(inputs[0]); }, inputs);
  EXPECT_TRUE(r.ok) << r.message;
  EXPECT_EQ(layer->named_parameters()[0].first, "beta");
}

TEST(AddALayer, ComputesSwish) {
  Swish s(1.0);
  EXPECT_NEAR(s.forward(tensor({2.0})).item(), 2.0 / (1.0 + std::exp(-2.0)), 1e-6);
}

}  // namespace
