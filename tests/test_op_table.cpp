// The generic op sweep over tests/op_table.cpp: first and second derivatives against central
// differences, float32 against float64, and a coverage check that fails when an op recorded by
// core has no row in the table.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <ostream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "zoograd/core/gradcheck.h"
#include "zoograd/core/ops.h"
#include "zoograd/tests/op_table.h"

namespace zg_tests {

// Readable parameter printouts in gtest's messages.
void PrintTo(const OpCase& c, std::ostream* os) { *os << c.name; }

namespace {

using zg::DType;
using zg::Tensor;

// ---- coverage helpers ----

// The op names in the text: string literals passed first to record( — `record("name", ...)`,
// whitespace allowed after the parenthesis, not part of a longer identifier.
std::set<std::string> recorded_names_in(const std::string& s) {
  const std::string call = "record(";
  std::set<std::string> names;
  for (std::size_t at = s.find(call); at != std::string::npos; at = s.find(call, at + 1)) {
    if (at > 0 && (std::isalnum(static_cast<unsigned char>(s[at - 1])) || s[at - 1] == '_')) continue;
    std::size_t q = s.find_first_not_of(" \t\r\n", at + call.size());
    if (q == std::string::npos || s[q] != '"') continue;
    std::size_t end = s.find('"', q + 1);
    if (end != std::string::npos && end > q + 1) names.insert(s.substr(q + 1, end - q - 1));
  }
  return names;
}

// The op names recorded in the .cpp and .h files of dir.
std::set<std::string> scan_recorded_ops(const std::filesystem::path& dir) {
  std::set<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    const auto ext = entry.path().extension();
    if (!entry.is_regular_file() || (ext != ".cpp" && ext != ".h")) continue;
    std::ifstream in(entry.path());
    std::stringstream text;
    text << in.rdbuf();
    std::set<std::string> found = recorded_names_in(text.str());
    names.insert(found.begin(), found.end());
  }
  return names;
}

// The names of the nodes reachable from out through grad_fn()->inputs.
std::set<std::string> graph_op_names(const Tensor& out) {
  std::set<std::string> names;
  std::set<const zg::Node*> seen;
  std::vector<const zg::Node*> stack;
  if (out.defined() && out.grad_fn()) {
    stack.push_back(out.grad_fn().get());
    seen.insert(stack.back());
  }
  while (!stack.empty()) {
    const zg::Node* node = stack.back();
    stack.pop_back();
    names.insert(node->name);
    for (const Tensor& in : node->inputs)
      if (in.defined() && in.grad_fn() && seen.insert(in.grad_fn().get()).second) stack.push_back(in.grad_fn().get());
  }
  return names;
}

struct CoverageGaps {
  std::vector<std::string> missing;  // recorded by core, never produced by a table case
  std::vector<std::string> unknown;  // produced by a table case, not found by the scan
};

CoverageGaps compare_coverage(const std::set<std::string>& scanned, const std::set<std::string>& collected) {
  CoverageGaps gaps;
  std::set_difference(scanned.begin(), scanned.end(), collected.begin(), collected.end(),
                      std::back_inserter(gaps.missing));
  std::set_difference(collected.begin(), collected.end(), scanned.begin(), scanned.end(),
                      std::back_inserter(gaps.unknown));
  return gaps;
}

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const std::string& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

// ---- value helpers ----

bool any_requires_grad(const std::vector<Tensor>& inputs) {
  return std::any_of(inputs.begin(), inputs.end(), [](const Tensor& t) { return t.requires_grad(); });
}

// float64 inputs converted to float32 (same values up to rounding), requires_grad kept.
std::vector<Tensor> to_float32(const std::vector<Tensor>& inputs) {
  std::vector<Tensor> out;
  for (const Tensor& t : inputs) {
    if (t.dtype() != DType::Float64) {
      out.push_back(t);
      continue;
    }
    Tensor c = t.detach().to(DType::Float32);
    if (t.requires_grad()) c.requires_grad_();
    out.push_back(c);
  }
  return out;
}

double max_abs(const std::vector<double>& v) {
  double m = 0;
  for (double x : v) m = std::max(m, std::abs(x));
  return m;
}

std::string test_name(const ::testing::TestParamInfo<OpCase>& info) {
  std::string s = info.param.name;
  for (char& c : s)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return s;
}

const std::vector<OpCase>& table() {
  static const std::vector<OpCase> t = op_table();
  return t;
}

// ---- the sweep: one ctest test per case and check ----

class OpCaseTest : public ::testing::TestWithParam<OpCase> {};

TEST_P(OpCaseTest, Gradcheck) {
  const OpCase& c = GetParam();
  std::vector<Tensor> inputs = make_inputs(c, DType::Float64);
  ASSERT_TRUE(any_requires_grad(inputs)) << c.name << " has no input to differentiate";
  zg::GradcheckResult r = zg::gradcheck(c.call, inputs);
  EXPECT_TRUE(r.ok) << c.name << ": " << r.message;
}

TEST_P(OpCaseTest, Gradgradcheck) {
  const OpCase& c = GetParam();
  std::vector<Tensor> inputs = make_inputs(c, DType::Float64);
  ASSERT_TRUE(any_requires_grad(inputs)) << c.name << " has no input to differentiate";
  zg::GradcheckResult r = zg::gradgradcheck(c.call, inputs);
  if (!c.gradgrad) {
    // The flag must stay honest: a flagged case that starts passing should lose its flag.
    if (r.ok) {
      ADD_FAILURE() << c.name << " is marked first-order only (" << c.why_no_gradgrad
                    << ") but gradgradcheck passes; remove the flag";
      return;
    }
    GTEST_SKIP() << "first-order only: " << c.why_no_gradgrad << " (gradgradcheck: " << r.message << ")";
  }
  EXPECT_TRUE(r.ok) << c.name << ": " << r.message;
}

TEST_P(OpCaseTest, Float32MatchesFloat64) {
  const OpCase& c = GetParam();
  std::vector<Tensor> inputs64 = make_inputs(c, DType::Float64);
  Tensor out64 = c.call(inputs64);
  Tensor out32 = c.call(to_float32(inputs64));
  ASSERT_EQ(out32.dtype(), DType::Float32) << c.name;
  ASSERT_EQ(out32.shape(), out64.shape()) << c.name;
  std::vector<double> v64 = out64.to_vector(), v32 = out32.to_vector();
  for (double x : v64) ASSERT_TRUE(std::isfinite(x)) << c.name << ": non-finite float64 output " << out64;
  double worst = 0;
  for (std::size_t i = 0; i < v64.size(); ++i) worst = std::max(worst, std::abs(v32[i] - v64[i]));
  double scale = std::max(max_abs(v64), 1.0);
  EXPECT_LE(worst, 1e-5 * scale) << c.name << ": float32 " << out32 << "\nfloat64 " << out64;
}

INSTANTIATE_TEST_SUITE_P(OpTable, OpCaseTest, ::testing::ValuesIn(table()), test_name);

// ---- the table itself ----

TEST(OpTable, NamesAreUniqueOpSlashVariant) {
  std::set<std::string> names, sanitized;
  for (const OpCase& c : table()) {
    std::size_t slash = c.name.find('/');
    EXPECT_TRUE(slash != std::string::npos && slash > 0 && slash + 1 < c.name.size()) << c.name;
    EXPECT_TRUE(names.insert(c.name).second) << "duplicate case " << c.name;
    EXPECT_TRUE(sanitized.insert(test_name({c, 0})).second) << "duplicate test name for " << c.name;
  }
  EXPECT_GE(names.size(), 100u);
}

TEST(OpTable, EveryCaseDifferentiatesAnInputAndBuildsBothDtypes) {
  for (const OpCase& c : table()) {
    for (DType dtype : {DType::Float32, DType::Float64}) {
      std::vector<Tensor> inputs = make_inputs(c, dtype);
      EXPECT_TRUE(any_requires_grad(inputs)) << c.name;
      for (const Tensor& t : inputs) {
        if (t.requires_grad()) {
          EXPECT_EQ(t.dtype(), dtype) << c.name;
        }
      }
      Tensor out = c.call(inputs);
      EXPECT_TRUE(out.requires_grad()) << c.name << " in " << zg::dtype_name(dtype);
    }
  }
}

TEST(OpTable, InputsAreReproduciblePerCase) {
  const OpCase& c = table().front();
  std::vector<Tensor> a = make_inputs(c, DType::Float64), b = make_inputs(c, DType::Float64);
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i].to_vector(), b[i].to_vector()) << c.name;
}

TEST(OpTable, FirstOrderOnlyCasesSayWhy) {
  for (const OpCase& c : table())
    EXPECT_EQ(c.gradgrad, c.why_no_gradgrad.empty()) << c.name << ": a flag without a reason, or a reason without a flag";
}

// Every op of the table has second derivatives checked by at least one case; the elementwise,
// reduction, matrix product and softmax-family ops in particular. Only `to` is exempt (see its row).
TEST(OpTable, EveryOpHasAGradgradCheckedCase) {
  std::map<std::string, int> checked;
  for (const OpCase& c : table()) checked[op_of(c)] += c.gradgrad ? 1 : 0;
  const std::vector<std::string> required = {
      "add", "sub", "mul", "div", "pow", "pow_scalar", "neg", "exp", "log", "log1p", "sqrt", "abs", "sign", "erf",
      "sin", "cos", "acos", "clamp", "relu", "leaky_relu", "sigmoid", "tanh", "gelu", "softplus", "where",
      "sum", "mean", "amax", "amin", "max", "min", "logsumexp", "softmax", "log_softmax", "mm", "bmm", "matmul"};
  for (const std::string& op : required) {
    ASSERT_TRUE(checked.count(op)) << op << " has no row in the table";
    EXPECT_GT(checked[op], 0) << op << " has no gradgradcheck-ed case";
  }
  for (const auto& [op, n] : checked) {
    if (op != "to") {
      EXPECT_GT(n, 0) << op << " has no gradgradcheck-ed case";
    }
  }
}

// The composite public functions record other ops' names, so the scan cannot ask for them.
TEST(OpTable, CompositeFunctionsHaveRows) {
  std::set<std::string> ops;
  for (const OpCase& c : table()) ops.insert(op_of(c));
  for (const char* op : {"mean", "max_pool2d", "conv2d", "linear", "matmul", "normalize", "stack", "transpose",
                         "flatten", "unsqueeze", "squeeze", "sum_to", "max", "min"})
    EXPECT_TRUE(ops.count(op)) << op << " has no row in the table";
}

// ---- coverage ----

const std::filesystem::path kCoreDir = std::filesystem::path(ZG_SOURCE_DIR) / "core";

TEST(OpTableCoverage, ScanFindsTheRecordedOps) {
  std::set<std::string> scanned = scan_recorded_ops(kCoreDir);
  EXPECT_GE(scanned.size(), 40u) << join({scanned.begin(), scanned.end()});
  for (const char* op : {"add", "mm", "bmm", "softmax", "col2im", "avg_pool2d_backward", "to", "clone"})
    EXPECT_TRUE(scanned.count(op)) << op << " not found in " << kCoreDir;
  EXPECT_FALSE(scanned.count("name")) << "the declaration record(const char* name, ...) must not count";
}

TEST(OpTableCoverage, ScannerReadsRecordCalls) {
  std::filesystem::path dir = std::filesystem::temp_directory_path() / "zg_op_table_scan";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "a.cpp") << "return record(\"fake_op\", out, {x}, bw);\n"
                                  "return record(  \"spaced_op\", out, {x}, bw);\n"
                                  "return record(\n    \"next_line_op\", out, {x}, bw);\n"
                                  "Tensor record(const char* name, Tensor out);\n"
                                  "// prerecord(\"not_an_op\")\n";
  std::ofstream(dir / "b.h") << "record(\"header_op\", o, {}, f);\n";
  std::ofstream(dir / "c.txt") << "record(\"ignored_op\", o, {}, f);\n";
  std::set<std::string> scanned = scan_recorded_ops(dir);
  std::filesystem::remove_all(dir);
  EXPECT_EQ(scanned, (std::set<std::string>{"fake_op", "header_op", "next_line_op", "spaced_op"}));
}

TEST(OpTableCoverage, GraphWalkCollectsEveryNode) {
  Tensor x = zg::randn({2, 3}, DType::Float64).requires_grad_();
  Tensor y = zg::randn({3}, DType::Float64);
  Tensor out = zg::sum(zg::exp(x + y) * x);
  EXPECT_EQ(graph_op_names(out), (std::set<std::string>{"add", "exp", "mul", "sum"}));
  EXPECT_TRUE(graph_op_names(x).empty());
}

TEST(OpTableCoverage, ComparisonReportsBothDirections) {
  CoverageGaps gaps = compare_coverage({"add", "fake_op", "mm"}, {"add", "mm", "stray_op"});
  EXPECT_EQ(gaps.missing, std::vector<std::string>{"fake_op"});
  EXPECT_EQ(gaps.unknown, std::vector<std::string>{"stray_op"});
  CoverageGaps none = compare_coverage({"add", "mm"}, {"add", "mm"});
  EXPECT_TRUE(none.missing.empty());
  EXPECT_TRUE(none.unknown.empty());
}

TEST(OpTableCoverage, EveryRecordedOpIsInTheTable) {
  std::set<std::string> scanned = scan_recorded_ops(kCoreDir);
  ASSERT_FALSE(scanned.empty());
  std::set<std::string> collected;
  for (const OpCase& c : table()) {
    std::set<std::string> names = graph_op_names(c.call(make_inputs(c, DType::Float64)));
    collected.insert(names.begin(), names.end());
  }
  CoverageGaps gaps = compare_coverage(scanned, collected);
  EXPECT_TRUE(gaps.missing.empty()) << "ops recorded in core/ with no case in tests/op_table.cpp: " << join(gaps.missing);
  EXPECT_TRUE(gaps.unknown.empty()) << "ops in the table's graphs that the scan of core/ did not find: "
                                    << join(gaps.unknown);
}

// A row named after a recorded op must actually record it (a composite's row may record others).
TEST(OpTableCoverage, RowsOfRecordedOpsRecordThem) {
  std::set<std::string> scanned = scan_recorded_ops(kCoreDir);
  for (const OpCase& c : table()) {
    if (!scanned.count(op_of(c))) continue;
    std::set<std::string> names = graph_op_names(c.call(make_inputs(c, DType::Float64)));
    EXPECT_TRUE(names.count(op_of(c))) << c.name << " records " << join({names.begin(), names.end()});
  }
}

}  // namespace

}  // namespace zg_tests
