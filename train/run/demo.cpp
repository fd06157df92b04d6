#include "zoograd/train/run/demo.h"

#include <spdlog/spdlog.h>

#include <cmath>
#include <numeric>
#include <numbers>
#include <vector>

#include "zoograd/core/generator.h"
#include "zoograd/core/ops.h"
#include "zoograd/datasets/synthetic.h"
#include "zoograd/train/run/interrupt.h"

namespace zg {

namespace {

struct Mlp {
  std::vector<Tensor> params;  // w1, b1, w2, b2, w3, b3

  Mlp(std::int64_t in, std::int64_t hidden, std::int64_t out, Generator& gen) {
    for (auto [fan_in, fan_out] : {std::pair{in, hidden}, {hidden, hidden}, {hidden, out}}) {
      double bound = 1.0 / std::sqrt(static_cast<double>(fan_in));  // PyTorch's Linear default range
      params.push_back(((rand({fan_out, fan_in}, DType::Float32, gen) * 2.0 - 1.0) * bound).requires_grad_());
      params.push_back(((rand({fan_out}, DType::Float32, gen) * 2.0 - 1.0) * bound).requires_grad_());
    }
  }

  Tensor forward(const Tensor& x) const {
    Tensor h = relu(linear(x, params[0], params[1]));
    h = relu(linear(h, params[2], params[3]));
    return linear(h, params[4], params[5]);
  }
};

// -mean_i log softmax(z_i)[y_i]
Tensor cross_entropy(const Tensor& logits, const Tensor& target) {
  return -mean(gather(log_softmax(logits, 1), 1, unsqueeze(target, 1)));
}

double accuracy(const Tensor& logits, const Tensor& target) {
  return mean(eq(argmax(logits, 1), target)).item();
}

}  // namespace

double run_demo(const DemoOptions& o) {
  Generator gen(o.seed);
  Dataset train_set = make_spirals(300, 3, 0.15, gen), test_set = make_spirals(300, 3, 0.15, gen);
  std::vector<std::int64_t> all(static_cast<std::size_t>(train_set.size()));
  std::iota(all.begin(), all.end(), 0);
  Batch train = make_batch(train_set, all), test = make_batch(test_set, all);
  Mlp model(2, o.hidden, 3, gen);
  std::vector<Tensor> velocity;
  for (const Tensor& p : model.params) velocity.push_back(zeros_like(p));

  const std::int64_t n = train.x.size(0), batch = 32;
  std::vector<std::int64_t> order(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) order[static_cast<std::size_t>(i)] = i;
  for (std::int64_t epoch = 1; epoch <= o.epochs; ++epoch) {
    stop_if_interrupted();  // nothing to save: the demo keeps no files
    gen.shuffle(order);
    // cosine decay of the learning rate over the run: large steps first, a quiet finish
    double lr = 0.5 * o.lr * (1.0 + std::cos(std::numbers::pi * static_cast<double>(epoch - 1) / static_cast<double>(o.epochs)));
    double loss_sum = 0;
    for (std::int64_t start = 0; start < n; start += batch) {
      std::int64_t end = std::min(n, start + batch);
      Tensor idx = from_data<std::int64_t>(std::span(order).subspan(start, end - start), {end - start});
      Tensor loss = cross_entropy(model.forward(index_select(train.x, 0, idx)), index_select(train.y, 0, idx));
      for (Tensor& p : model.params) p.set_grad(Tensor());
      loss.backward();
      loss_sum += loss.item() * static_cast<double>(end - start);
      NoGradGuard no_grad;
      for (std::size_t k = 0; k < model.params.size(); ++k) {  // v = μv + g;  p -= lr·v
        float* p = model.params[k].data<float>();
        float* v = velocity[k].data<float>();
        const float* g = model.params[k].grad().data<float>();
        for (std::int64_t i = 0; i < model.params[k].numel(); ++i) {
          v[i] = static_cast<float>(o.momentum) * v[i] + g[i];
          p[i] -= static_cast<float>(lr) * v[i];
        }
      }
    }
    if (epoch % 10 == 0 || epoch == o.epochs) {
      NoGradGuard no_grad;
      spdlog::info("epoch {:3d}  loss {:.4f}  train accuracy {:.3f}", epoch, loss_sum / static_cast<double>(n),
                   accuracy(model.forward(train.x), train.y));
    }
  }
  NoGradGuard no_grad;
  return accuracy(model.forward(test.x), test.y);
}

}  // namespace zg
