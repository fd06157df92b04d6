#include "zoograd/layers/check_layer.h"

#include "zoograd/core/ops.h"

namespace zg {

GradcheckResult check_layer(const std::function<std::shared_ptr<Module>(Generator&)>& make, const Shape& input_shape,
                            const LayerCheckOptions& options) {
  Generator gen(options.seed);
  std::shared_ptr<Module> layer = make(gen);
  layer->to(DType::Float64);
  layer->train(options.training);
  Tensor x = randn(input_shape, DType::Float64, gen);
  double* p = x.data<double>();
  for (std::int64_t i = 0; i < x.numel(); ++i) p[i] += p[i] >= 0 ? 0.05 : -0.05;
  std::vector<Tensor> inputs{x.requires_grad_()};
  for (const Tensor& param : layer->parameters()) inputs.push_back(param);
  return gradcheck(
      [&](const std::vector<Tensor>&) {
        options.before_forward();
        return layer->forward(inputs[0]);
      },
      inputs);
}

}  // namespace zg
