#include "zoograd/core/autograd.h"

#include <cassert>
#include <cmath>
#include <stdexcept>
#include <unordered_map>
#include <unordered_set>

#include "zoograd/core/ops.h"

namespace zg {

namespace {
thread_local bool g_grad_enabled = true;
thread_local bool g_anomaly = false;

// Moves the history of inputs that nobody else holds into pending, so that ~Node can release a
// long chain in a loop instead of by recursion.
void release_inputs(std::vector<Tensor>& inputs, std::vector<std::shared_ptr<Node>>& pending) {
  for (Tensor& t : inputs) {
    const auto& p = t.impl_ptr();
    if (p && p.use_count() == 1 && p->grad_fn) pending.push_back(std::move(p->grad_fn));
  }
  inputs.clear();
}

// The index and value of the first non-finite element of a floating tensor, or -1.
std::int64_t first_non_finite(const Tensor& t, double& value) {
  if (!t.defined() || !is_floating(t.dtype())) return -1;
  return dispatch_float(t.dtype(), "anomaly", [&]<class T>() -> std::int64_t {
    const T* p = t.data<T>();
    for (std::int64_t i = 0, end = t.numel(); i < end; ++i)
      if (!std::isfinite(p[i])) {
        value = static_cast<double>(p[i]);
        return i;
      }
    return -1;
  });
}

std::string describe(double v) { return std::isnan(v) ? "nan" : (v > 0 ? "inf" : "-inf"); }
}  // namespace

Node::~Node() {
  std::vector<std::shared_ptr<Node>> pending;
  release_inputs(inputs, pending);
  while (!pending.empty()) {
    std::shared_ptr<Node> n = std::move(pending.back());
    pending.pop_back();
    if (n.use_count() == 1) release_inputs(n->inputs, pending);
  }
}

bool is_grad_enabled() { return g_grad_enabled; }
void set_grad_enabled(bool on) { g_grad_enabled = on; }
bool is_anomaly_enabled() { return g_anomaly; }
void set_detect_anomaly(bool on) { g_anomaly = on; }

bool will_record(const std::vector<Tensor>& inputs) {
  if (!g_grad_enabled) return false;
  for (const Tensor& t : inputs)
    if (t.defined() && t.requires_grad()) return true;
  return false;
}

Tensor record(const char* name, Tensor out, std::vector<Tensor> inputs, Node::Backward backward) {
  if (g_anomaly) {
    double v = 0;
    std::int64_t at = first_non_finite(out, v);
    if (at >= 0) {
      std::string shapes;
      for (const Tensor& t : inputs) shapes += (shapes.empty() ? "" : ", ") + to_string(t.shape());
      throw AnomalyError(std::string("anomaly: op '") + name + "' produced " + describe(v) + " at element " +
                               std::to_string(at) + " of its output of shape " + to_string(out.shape()) +
                               " (input shapes " + shapes + ")");
    }
  }
  if (!will_record(inputs)) return out;
  auto node = std::make_shared<Node>(name, std::move(inputs), std::move(backward));
  node->output = out.impl_ptr();
  out.impl().grad_fn = std::move(node);
  return out;
}

namespace {

// Turns anomaly mode's per-op check off for its lifetime.
struct AnomalyPause {
  bool prev = g_anomaly;
  AnomalyPause() { g_anomaly = false; }
  ~AnomalyPause() { g_anomaly = prev; }
  AnomalyPause(const AnomalyPause&) = delete;
  AnomalyPause& operator=(const AnomalyPause&) = delete;
};

// A node to run, with its output held alive until it has run (consumers may free theirs first).
struct Pending {
  std::shared_ptr<Node> node;
  Tensor out;
};

// The nodes reachable from roots, each after every node that consumes its output.
std::vector<Pending> topological_order(const std::vector<Tensor>& roots) {
  std::vector<Pending> post;
  std::unordered_set<Node*> seen;
  std::vector<std::pair<Node*, std::size_t>> stack;
  for (const Tensor& r : roots) {
    Node* n = r.grad_fn().get();
    if (!n || !seen.insert(n).second) continue;
    stack.emplace_back(n, 0);
    while (!stack.empty()) {
      auto& [node, next] = stack.back();
      if (next < node->inputs.size()) {
        const Tensor& in = node->inputs[next++];
        Node* child = in.defined() ? in.grad_fn().get() : nullptr;
        if (child && seen.insert(child).second) stack.emplace_back(child, 0);
      } else {
        post.push_back({node->shared_from_this(), node->out()});
        stack.pop_back();
      }
    }
  }
  return {post.rbegin(), post.rend()};
}

Tensor accumulate(const Tensor& acc, const Tensor& g) { return acc.defined() ? acc + g : g; }

// Runs the backward pass. Gradients reaching a leaf go to on_leaf; those reaching a node's output
// stay in the returned map (keyed by node) so that grad() can read non-leaf gradients.
template <class OnLeaf>
std::unordered_map<Node*, Tensor> run_backward(const std::vector<Tensor>& roots, const std::vector<Tensor>& root_grads,
                                               bool retain_graph, bool create_graph, OnLeaf on_leaf,
                                               const std::unordered_set<Node*>& keep) {
  GradModeGuard mode(create_graph);
  std::unordered_map<Node*, Tensor> grads;
  for (std::size_t i = 0; i < roots.size(); ++i) {
    if (roots[i].grad_fn()) grads[roots[i].grad_fn().get()] = accumulate(grads[roots[i].grad_fn().get()], root_grads[i]);
    else on_leaf(roots[i], root_grads[i]);
  }
  std::unordered_map<Node*, Tensor> kept;
  for (Pending& pending : topological_order(roots)) {
    Node* node = pending.node.get();
    if (node->freed)
      throw std::runtime_error(std::string("backward through '") + node->name +
                               "' a second time: its graph was freed by the first backward; "
                               "pass {.retain_graph = true} to the first call");
    auto it = grads.find(node);
    if (it == grads.end()) continue;
    Tensor g = std::move(it->second);
    grads.erase(it);
    if (keep.count(node)) kept[node] = g;
    Grads in_grads;
    {
      // The ops of a backward formula are not checked one by one in anomaly mode: the gradients
      // it returns are, below, so that an anomaly is reported as the backward of this node.
      AnomalyPause pause;
      in_grads = node->backward(*node, g);
    }
    assert(in_grads.size() == node->inputs.size());
    for (std::size_t i = 0; i < node->inputs.size(); ++i) {
      const Tensor& in = node->inputs[i];
      const Tensor& gi = in_grads[i];
      if (!gi.defined() || !in.defined() || !in.requires_grad()) continue;
      if (gi.shape() != in.shape() || gi.dtype() != in.dtype())
        throw std::logic_error(std::string("backward of '") + node->name + "' returned a " + dtype_name(gi.dtype()) + " gradient of shape " +
                               to_string(gi.shape()) + " for input " + std::to_string(i) + ", a " +
                               dtype_name(in.dtype()) + " tensor of shape " + to_string(in.shape()));
      if (g_anomaly) {
        double v = 0;
        std::int64_t at = first_non_finite(gi, v);
        if (at >= 0)
          throw AnomalyError(std::string("anomaly: backward of '") + node->name + "' produced " + describe(v) +
                                   " at element " + std::to_string(at) + " of the gradient for input " +
                                   std::to_string(i) + " of shape " + to_string(in.shape()));
      }
      if (in.grad_fn()) grads[in.grad_fn().get()] = accumulate(grads[in.grad_fn().get()], gi);
      else on_leaf(in, gi);
    }
    if (!retain_graph && !create_graph) {  // the graph of create_graph's gradients runs through this one
      node->inputs.clear();
      node->backward = nullptr;
      node->freed = true;
    }
    pending = {};
  }
  return kept;
}

std::vector<Tensor> default_root_grads(const std::vector<Tensor>& roots, const std::vector<Tensor>& given) {
  if (!given.empty() && given.size() != roots.size())
    throw std::invalid_argument("grad: got " + std::to_string(given.size()) + " grad_outputs for " +
                                std::to_string(roots.size()) + " outputs");
  std::vector<Tensor> g(roots.size());
  for (std::size_t i = 0; i < roots.size(); ++i) {
    if (!roots[i].requires_grad())
      throw std::invalid_argument("backward: output " + std::to_string(i) +
                                  " does not require grad (no input of the computation has requires_grad set)");
    if (!given.empty() && given[i].defined()) {
      if (given[i].shape() != roots[i].shape())
        throw std::invalid_argument("backward: gradient of shape " + to_string(given[i].shape()) +
                                    " given for an output of shape " + to_string(roots[i].shape()));
      g[i] = given[i].to(roots[i].dtype());
    } else if (roots[i].numel() == 1) {
      g[i] = ones(roots[i].shape(), roots[i].dtype());
    } else {
      throw std::invalid_argument("backward: an output of shape " + to_string(roots[i].shape()) +
                                  " needs an explicit gradient; only one-element outputs get an implicit 1");
    }
  }
  return g;
}

}  // namespace

void Tensor::backward(const Tensor& grad, const BackwardOptions& options) const {
  std::vector<Tensor> roots{*this};
  std::vector<Tensor> root_grads = default_root_grads(roots, {grad});
  // Each leaf's gradient is summed over the whole pass and then added to its grad() once: k
  // backward calls through a retained graph give exactly k times the gradient, and a backward
  // that throws leaves grad() untouched.
  std::vector<std::pair<Tensor, Tensor>> leaves;  // (leaf, gradient), in order of arrival
  std::unordered_map<TensorImpl*, std::size_t> slot;
  run_backward(roots, root_grads, options.retain_graph, options.create_graph,
               [&](const Tensor& leaf, const Tensor& g) {
                 auto [it, fresh] = slot.try_emplace(&leaf.impl(), leaves.size());
                 if (fresh) leaves.emplace_back(leaf, g);
                 else leaves[it->second].second = accumulate(leaves[it->second].second, g);
               },
               {});
  GradModeGuard mode(options.create_graph);
  for (const auto& [leaf, g] : leaves) leaf.set_grad(accumulate(leaf.grad(), g));
}

std::vector<Tensor> grad(const std::vector<Tensor>& outputs, const std::vector<Tensor>& inputs,
                         const std::vector<Tensor>& grad_outputs, const BackwardOptions& options) {
  std::vector<Tensor> root_grads = default_root_grads(outputs, grad_outputs);
  std::unordered_map<TensorImpl*, Tensor> leaf_grads;
  std::unordered_set<Node*> keep;
  for (const Tensor& t : inputs) {
    if (!t.requires_grad())
      throw std::invalid_argument("grad: input of shape " + to_string(t.shape()) + " does not require grad");
    if (t.grad_fn()) keep.insert(t.grad_fn().get());
  }
  auto kept = run_backward(outputs, root_grads, options.retain_graph, options.create_graph,
                           [&](const Tensor& leaf, const Tensor& g) {
                             Tensor& acc = leaf_grads[&leaf.impl()];
                             acc = accumulate(acc, g);
                           },
                           keep);
  std::vector<Tensor> result;
  for (const Tensor& t : inputs) {
    Tensor g = t.grad_fn() ? kept[t.grad_fn().get()] : leaf_grads[&t.impl()];
    result.push_back(g.defined() ? g : zeros_like(t));
  }
  return result;
}

}  // namespace zg
