// The README's "Add a layer" walkthrough, beside its row in a copy of the layer table
// (tests/readme/CMakeLists.txt), whose generic check gradchecks Swish with respect to its input and β.
#include <gtest/gtest.h>

#include <cmath>

#include "zoograd/core/ops.h"
#include "zoograd/zoograd.h"  // the umbrella header sees the new layer's header too

namespace {

using namespace zg;

TEST(AddALayer, ComputesSwish) {
  Swish s(1.0);
  EXPECT_NEAR(s.forward(tensor({2.0})).item(), 2.0 / (1.0 + std::exp(-2.0)), 1e-6);
}

TEST(AddALayer, ItsParameterIsNamedBeta) {
  Swish s(0.7);
  ASSERT_EQ(s.named_parameters().size(), 1u);
  EXPECT_EQ(s.named_parameters()[0].first, "beta");
  EXPECT_EQ(s.state_dict().at(0).first, "beta");
}

}  // namespace
