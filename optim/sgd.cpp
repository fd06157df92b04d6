#include "zoograd/optim/sgd.h"

#include <cstdio>
#include <sstream>
#include <stdexcept>

#include "zoograd/core/autograd.h"
#include "zoograd/core/kernels/parallel.h"

namespace zg {

namespace {
std::string num(double v) {
  std::ostringstream o;
  o << v;  // %g-style: keeps 1e-09 and -0.5 readable (std::to_string would print -0.000000)
  return o.str();
}

void validate(const SGDOptions& o, std::size_t group) {
  std::string where = "SGD (group " + std::to_string(group) + "): ";
  if (!(o.lr >= 0)) throw std::invalid_argument(where + "invalid learning rate " + num(o.lr));
  if (!(o.momentum >= 0)) throw std::invalid_argument(where + "invalid momentum " + num(o.momentum));
  if (!(o.weight_decay >= 0)) throw std::invalid_argument(where + "invalid weight_decay " + num(o.weight_decay));
  if (o.nesterov && (o.momentum <= 0 || o.dampening != 0))
    throw std::invalid_argument(where + "Nesterov momentum requires a momentum and zero dampening, got momentum " +
                                num(o.momentum) + " and dampening " + num(o.dampening));
}

// One branch-free loop per case, so the compiler vectorizes each (a loop that tested the case per
// element ran at 2 ns per parameter, 15% of an MLP epoch).
template <class T>
void update(T* __restrict p, const T* __restrict grad, T* __restrict buf, bool first, std::int64_t n,
            const SGDOptions& o) {
  const T lr = static_cast<T>(o.lr), mu = static_cast<T>(o.momentum), wd = static_cast<T>(o.weight_decay),
          damp = static_cast<T>(1 - o.dampening);
  if (!buf) {
    for (std::int64_t i = 0; i < n; ++i) p[i] -= lr * (grad[i] + wd * p[i]);
  } else if (first) {
    for (std::int64_t i = 0; i < n; ++i) {
      T g = grad[i] + wd * p[i];
      buf[i] = g;
      p[i] -= lr * (o.nesterov ? g + mu * g : g);
    }
  } else if (o.nesterov) {
    for (std::int64_t i = 0; i < n; ++i) {
      T g = grad[i] + wd * p[i];
      buf[i] = mu * buf[i] + damp * g;
      p[i] -= lr * (g + mu * buf[i]);
    }
  } else {
    for (std::int64_t i = 0; i < n; ++i) {
      buf[i] = mu * buf[i] + damp * (grad[i] + wd * p[i]);
      p[i] -= lr * buf[i];
    }
  }
}
}  // namespace

SGD::SGD(std::vector<Tensor> params, const SGDOptions& options) : SGD(std::vector<ParamGroup>{{std::move(params), options}}) {}

SGD::SGD(std::vector<ParamGroup> groups) : groups_(std::move(groups)) {
  for (std::size_t g = 0; g < groups_.size(); ++g) {
    validate(groups_[g].options, g);
    for (const Tensor& p : groups_[g].params)
      if (!p.defined() || !p.is_leaf() || !is_floating(p.dtype()))
        throw std::invalid_argument("SGD: group " + std::to_string(g) + " holds a tensor that is not a floating leaf");
    momentum_.emplace_back(groups_[g].params.size());
  }
}

void SGD::step() {
  NoGradGuard no_grad;
  for (std::size_t g = 0; g < groups_.size(); ++g) {
    const SGDOptions& o = groups_[g].options;
    validate(o, g);
    for (std::size_t i = 0; i < groups_[g].params.size(); ++i) {
      const Tensor& p = groups_[g].params[i];
      Tensor grad = p.grad();
      if (!grad.defined()) continue;
      if (grad.shape() != p.shape())  // the update below walks p.numel() elements of the gradient
        throw std::invalid_argument("SGD: group " + std::to_string(g) + " parameter " + std::to_string(i) +
                                    " of shape " + to_string(p.shape()) + " has a gradient of shape " +
                                    to_string(grad.shape()));
      Tensor& buf = momentum_[g][i];
      bool first = o.momentum != 0 && !buf.defined();
      if (first) buf = zeros_like(p);
      dispatch_float(p.dtype(), "SGD", [&]<class T>() {
        Tensor gt = grad.to(p.dtype());
        T* pb = o.momentum != 0 ? buf.data<T>() : nullptr;
        parallel_for(p.numel(), 1 << 16, [&](std::int64_t begin, std::int64_t end) {
          update<T>(p.data<T>() + begin, gt.data<T>() + begin, pb ? pb + begin : nullptr, first, end - begin, o);
        });
      });
    }
  }
}

void SGD::zero_grad() {
  for (auto& group : groups_)
    for (Tensor& p : group.params) p.set_grad(Tensor());
}

std::vector<std::pair<std::string, Tensor>> SGD::state_dict() const {
  std::vector<std::pair<std::string, Tensor>> out;
  for (std::size_t g = 0; g < momentum_.size(); ++g)
    for (std::size_t i = 0; i < momentum_[g].size(); ++i)
      if (momentum_[g][i].defined())
        out.emplace_back(std::to_string(g) + "." + std::to_string(i) + ".momentum_buffer", momentum_[g][i]);
  return out;
}

void SGD::load_state_dict(const std::vector<std::pair<std::string, Tensor>>& state) {
  std::vector<std::vector<Tensor>> loaded;
  for (const auto& group : groups_) loaded.emplace_back(group.params.size());
  for (const auto& [name, t] : state) {
    std::size_t g = 0, i = 0;
    char rest[32] = {};
    if (std::sscanf(name.c_str(), "%zu.%zu.%31s", &g, &i, rest) != 3 ||
        name != std::to_string(g) + "." + std::to_string(i) + ".momentum_buffer" ||  // no " 0", "+0", "00", suffix
        g >= groups_.size() || i >= groups_[g].params.size())
      throw std::invalid_argument("SGD::load_state_dict: unexpected key \"" + name + "\" for an optimizer with " +
                                  std::to_string(groups_.size()) + " parameter group(s)");
    const Tensor& p = groups_[g].params[i];
    if (t.shape() != p.shape())
      throw std::invalid_argument("SGD::load_state_dict: momentum buffer \"" + name + "\" has shape " +
                                  to_string(t.shape()) + ", its parameter " + to_string(p.shape()));
    loaded[g][i] = t.detach().to(p.dtype()).clone().detach();
  }
  momentum_ = std::move(loaded);
}

}  // namespace zg
