// The generic loss checks (losses/check_loss.h), PyTorch's OpInfo idea: one parameterised test over
// the catalog runs them on every row, so a new row needs no test code; and the open catalog:
// a registered loss joins it and is checked the same way.
#include <gtest/gtest.h>

#include <regex>
#include <string>
#include <vector>

#include "zoograd/core/ops.h"
#include "zoograd/losses/catalog.h"
#include "zoograd/losses/check_loss.h"
#include "zoograd/tests/test_util.h"

namespace {

using namespace zg;
using zg_tests::error_of;

std::vector<std::string> catalog_names() {
  std::vector<std::string> names;
  for (const LossSpec& s : loss_catalog()) names.push_back(s.name);
  return names;
}

class EveryLoss : public ::testing::TestWithParam<std::string> {};

TEST_P(EveryLoss, PassesTheGenericChecks) {
  const LossCheck check = check_loss(find_loss(GetParam()));
  EXPECT_TRUE(check.ok()) << check.text();
}

INSTANTIATE_TEST_SUITE_P(Catalog, EveryLoss, ::testing::ValuesIn(catalog_names()),
                         [](const ::testing::TestParamInfo<std::string>& p) { return p.param; });

// mse_loss under another name, as an extender would write a row.
LossSpec registered_row(const std::string& name) {
  LossSpec row = find_loss("mse_loss");
  row.name = name;
  return row;
}

TEST(OpenCatalog, ARegisteredLossIsFoundCalledAndChecked) {
  register_loss(registered_row("registered_mse_loss"));
  const LossSpec& spec = find_loss("registered_mse_loss");
  Tensor a = tensor({1.0, 2.0}), b = tensor({0.0, 4.0});
  EXPECT_DOUBLE_EQ(spec.call({a, b}, {}, Reduction::Sum).item(), 5.0);
  EXPECT_EQ(loss_catalog().back().name, "registered_mse_loss");
  EXPECT_TRUE(check_loss(spec).ok()) << check_loss(spec).text();
  EXPECT_NE(error_of([&] { spec.call({a, b}, {{"no_such_parameter", 1}}, Reduction::Sum); }).find("no_such_parameter"),
            std::string::npos);
}

TEST(OpenCatalog, RegistrationRefusesTakenNamesAndIncompleteRows) {
  EXPECT_NE(error_of([] { register_loss(registered_row("mse_loss")); }).find("already has a loss of that name"),
            std::string::npos);
  LossSpec no_call = registered_row("loss_without_call");
  no_call.call = nullptr;
  EXPECT_NE(error_of([&] { register_loss(no_call); }).find("call and its sample"), std::string::npos);
  LossSpec bad_default = registered_row("loss_with_bad_default");
  bad_default.params.push_back({"margin", -1.0, "a margin", ValueRange::positive()});
  EXPECT_NE(error_of([&] { register_loss(bad_default); }).find("margin's default -1"), std::string::npos);
}

// The checks can fail: a row whose gradient is wrong, whose sum is not Σ none, or that takes any
// parameter, is reported with the check's name.
TEST(GenericLossChecks, ReportWhatIsWrong) {
  LossSpec wrong_gradient = registered_row("wrong_gradient");
  wrong_gradient.call = [](const std::vector<Tensor>& in, const LossParams&, Reduction r) {
    Tensor d = in[0] - in[0].detach() + (in[0] - in[1]).detach();  // value right, gradient 1 instead of 2·(x - y)
    return reduce(d * d.detach(), r);
  };
  EXPECT_NE(check_loss(wrong_gradient).text().find("gradcheck under mean"), std::string::npos)
      << check_loss(wrong_gradient).text();
  LossSpec wrong_sum = registered_row("wrong_sum");
  wrong_sum.call = [](const std::vector<Tensor>& in, const LossParams&, Reduction r) {
    Tensor v = (in[0] - in[1]) * (in[0] - in[1]);
    return r == Reduction::Sum ? 2.0 * sum(v) : reduce(v, r);
  };
  EXPECT_NE(check_loss(wrong_sum).text().find("sum: "), std::string::npos) << check_loss(wrong_sum).text();
}

// The checks the family tests used to repeat: a gradient wrong only at a gradcheck variant, a
// float32 path that differs from float64, a mean that is not a scalar, an optional input first.
TEST(GenericLossChecks, ReportVariantsFloat32ScalarsAndForm) {
  auto expect_problem = [](const LossSpec& row, const std::string& problem) {
    EXPECT_NE(check_loss(row).text().find(problem), std::string::npos) << row.name << ": " << check_loss(row).text();
  };
  LossSpec wrong_at_half = registered_row("wrong_at_half");
  wrong_at_half.gradcheck_variants = {};  // mse_loss's own variant, half = 1, comes back below
  wrong_at_half.call = [](const std::vector<Tensor>& in, const LossParams& p, Reduction r) {
    Tensor d = in[0] - in[1];
    if (p.at("half") == 0) return reduce(d * d, r);
    return reduce(0.5 * d.detach() * d, r);  // value ½d², gradient d/2 instead of d
  };
  EXPECT_TRUE(check_loss(wrong_at_half).ok()) << check_loss(wrong_at_half).text();
  wrong_at_half.gradcheck_variants = {{{"half", 1.0}}};
  expect_problem(wrong_at_half, "gradcheck under mean at half=1 (sample 1)");

  LossSpec float32_off = registered_row("float32_off");
  float32_off.call = [](const std::vector<Tensor>& in, const LossParams&, Reduction r) {
    Tensor d = in[0] - in[1];
    return reduce(d * d, r) + (in[0].dtype() == DType::Float32 ? 1e-3 : 0.0);
  };
  expect_problem(float32_off, "float32 under none: value 0 is");

  LossSpec mean_not_scalar = registered_row("mean_not_scalar");
  mean_not_scalar.call = [](const std::vector<Tensor>& in, const LossParams&, Reduction r) {
    Tensor d = in[0] - in[1];
    return r == Reduction::Mean ? reshape(mean(d * d), {1}) : reduce(d * d, r);
  };
  expect_problem(mean_not_scalar, "mean: shape [1], expected a scalar");

  LossSpec optional_first = registered_row("optional_first");
  optional_first.inputs[0].optional = true;
  expect_problem(optional_first, "form: optional input input comes before a required one");
}

}  // namespace
