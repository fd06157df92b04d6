#pragma once
// Reverse-mode autograd: the graph node, the op recorder, grad mode and anomaly mode, and the
// engine (Tensor::backward and grad()).
//
// An op computes its output without autograd, then calls record(name, out, inputs, backward).
// backward(node, grad_out) returns one gradient per input (an undefined Tensor where
// node.needs_grad(i) is false), written with tensor ops so that create_graph works.
// A backward closure must reach the op's tensors through node.in(i) / node.out() and capture
// only plain values or tensors without history (indices, masks): that keeps the graph free of
// reference cycles and lets deep graphs be destroyed iteratively.
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "zoograd/core/tensor.h"

namespace zg {

using Grads = std::vector<Tensor>;

struct Node : std::enable_shared_from_this<Node> {
  using Backward = std::function<Grads(const Node&, const Tensor& grad_out)>;

  const char* name;                 // op name, a string literal
  std::vector<Tensor> inputs;       // cleared when the graph is freed
  std::weak_ptr<TensorImpl> output; // the engine keeps it alive while the node runs
  Backward backward;
  bool freed = false;

  const Tensor& in(std::size_t i) const { return inputs[i]; }
  Tensor out() const { return Tensor(output.lock()); }
  bool needs_grad(std::size_t i) const { return inputs[i].defined() && inputs[i].requires_grad(); }

  Node(const char* op, std::vector<Tensor> in, Backward bw)
      : name(op), inputs(std::move(in)), backward(std::move(bw)) {}
  ~Node();  // releases long chains without recursion
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;
};

bool is_grad_enabled();
void set_grad_enabled(bool on);

class GradModeGuard {
 public:
  explicit GradModeGuard(bool enabled) : prev_(is_grad_enabled()) { set_grad_enabled(enabled); }
  ~GradModeGuard() { set_grad_enabled(prev_); }
  GradModeGuard(const GradModeGuard&) = delete;
  GradModeGuard& operator=(const GradModeGuard&) = delete;

 private:
  bool prev_;
};

// Ops run inside a NoGradGuard's scope record no graph.
class NoGradGuard : public GradModeGuard {
 public:
  NoGradGuard() : GradModeGuard(false) {}
};

// Anomaly mode: every op checks its output, and backward every gradient, for NaN/Inf and throws
// an AnomalyError naming the first op (and shape) that produced one.
struct AnomalyError : std::runtime_error {
  using std::runtime_error::runtime_error;
};
bool is_anomaly_enabled();
void set_detect_anomaly(bool on);

class DetectAnomalyGuard {
 public:
  DetectAnomalyGuard() : prev_(is_anomaly_enabled()) { set_detect_anomaly(true); }
  ~DetectAnomalyGuard() { set_detect_anomaly(prev_); }
  DetectAnomalyGuard(const DetectAnomalyGuard&) = delete;
  DetectAnomalyGuard& operator=(const DetectAnomalyGuard&) = delete;

 private:
  bool prev_;
};

// Whether record would attach a node for these inputs: grad mode is on and one requires grad.
// Ops ask it to skip what only a backward needs (saved columns, pooling positions).
bool will_record(const std::vector<Tensor>& inputs);

// Attaches a graph node to out when will_record(inputs); runs the anomaly
// check in anomaly mode. Returns out.
Tensor record(const char* name, Tensor out, std::vector<Tensor> inputs, Node::Backward backward);

// d(outputs)/d(inputs) · grad_outputs, without touching any .grad(). Inputs the outputs do not
// depend on get zeros. grad_outputs may be empty when every output has one element.
// create_graph implies retain_graph, as for Tensor::backward.
std::vector<Tensor> grad(const std::vector<Tensor>& outputs, const std::vector<Tensor>& inputs,
                         const std::vector<Tensor>& grad_outputs = {}, const BackwardOptions& options = {});

}  // namespace zg
