// Catalog-wide checks: every loss function declared in losses/ has a catalog row in one of the
// five families, and 100,000 random float32 trials give no NaN or Inf. Each row's own checks are
// check_loss's (tests/test_loss_generic.cpp).
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "zoograd/core/ops.h"
#include "zoograd/losses/catalog.h"
#include "zoograd/tests/test_util.h"

namespace {

using namespace zg;
using zg_tests::error_of;

bool all_finite(const Tensor& t) {
  for (double v : t.to_vector())
    if (!std::isfinite(v)) return false;
  return true;
}

// Fails while a public loss function (a `Tensor name_loss(` declaration, or one named in the
// family list below) in losses/*.h has no catalog row of the same name.
TEST(LossCatalog, EveryDeclaredLossHasARow) {
  std::set<std::string> rows;
  for (const LossSpec& s : loss_catalog()) EXPECT_TRUE(rows.insert(s.name).second) << "duplicate row " << s.name;
  static const std::regex decl(R"(\bTensor\s+(\w+_(?:loss|score))\s*\()");
  std::set<std::string> declared;
  for (const auto& entry : std::filesystem::directory_iterator(std::filesystem::path(ZG_SOURCE_DIR) / "losses")) {
    if (entry.path().extension() != ".h" || entry.path().filename() == "hessians.h") continue;
    std::ifstream in(entry.path());
    std::stringstream text;
    text << in.rdbuf();
    std::string s = text.str();
    for (std::sregex_iterator it(s.begin(), s.end(), decl), end; it != end; ++it) declared.insert((*it)[1].str());
  }
  EXPECT_GE(declared.size(), 20u);
  for (const std::string& name : declared) EXPECT_TRUE(rows.count(name)) << name << " has no catalog row";
}

// The rows belong to zoograd's five families, and param() refuses a name the row does not declare. The rest of a row's form is check_loss's.
TEST(LossCatalog, RowsAreInTheFiveFamilies) {
  for (const LossSpec& s : loss_catalog()) {
    SCOPED_TRACE(s.name);
    EXPECT_TRUE(s.family == "regression" || s.family == "classification" || s.family == "hinge" ||
                s.family == "metric" || s.family == "angular");
    EXPECT_NE(error_of([&] { param(s, {}, "no_such_parameter"); }).find("no_such_parameter"), std::string::npos);
  }
}

TEST(LossCatalog, HundredThousandRandomFloat32TrialsStayFinite) {
  const auto& catalog = loss_catalog();
  Generator pick(2024);
  int trials = 0;
  for (; trials < 100000; ++trials) {
    const LossSpec& s = catalog[pick.below(catalog.size())];
    Generator gen(pick.next_u64());
    std::vector<Tensor> in = s.sample(DType::Float32, gen);
    for (std::size_t i = 0; i < in.size(); ++i)
      if (s.inputs[i].differentiable) in[i].requires_grad_();
    Reduction r = s.reductions[pick.below(s.reductions.size())];
    Tensor loss = s.call(in, {}, r);
    ASSERT_TRUE(all_finite(loss)) << s.name << " trial " << trials;
    Tensor total = sum(loss);
    std::vector<Tensor> wrt;
    for (std::size_t i = 0; i < in.size(); ++i)
      if (s.inputs[i].differentiable) wrt.push_back(in[i]);
    if (wrt.empty() || !total.requires_grad()) continue;
    for (const Tensor& g : grad({total}, wrt)) ASSERT_TRUE(all_finite(g)) << s.name << " gradient, trial " << trials;
  }
  EXPECT_EQ(trials, 100000);
}

}  // namespace
