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

}  // namespace
