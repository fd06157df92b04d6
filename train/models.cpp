#include "train/models.h"

#include <stdexcept>

#include "layers/activation.h"
#include "layers/conv2d.h"
#include "layers/flatten.h"
#include "layers/linear.h"
#include "layers/pooling.h"
#include "layers/sequential.h"
#include "train/objective.h"

namespace zg {

std::shared_ptr<Sequential> build_model(const TrainConfig& config, const Shape& sample_shape, std::int64_t classes,
                                    Generator& gen) {
  auto net = std::make_shared<Sequential>();
  const Objective objective(config.loss, config.loss_params);
  const std::int64_t outputs = objective.needs_head() ? config.embedding_dim : classes;
  auto add_head = [&] {
    if (objective.needs_head()) net->push_back(objective.make_head(config.embedding_dim, classes, gen));
  };
  if (config.model == "mlp") {
    std::int64_t width = numel(sample_shape);
    net->push_back(std::make_shared<Flatten>());
    for (std::int64_t h : config.hidden) {
      net->push_back(std::make_shared<Linear>(width, h, true, gen));
      net->push_back(std::make_shared<ReLU>(true));
      width = h;
    }
    net->push_back(std::make_shared<Linear>(width, outputs, true, gen));
    add_head();
    return net;
  }
  if (sample_shape.size() != 3)
    throw std::invalid_argument("--model cnn needs image data (C, H, W); this data set has samples of shape " +
                                to_string(sample_shape) + "; use --model mlp");
  std::int64_t c = sample_shape[0], h = sample_shape[1], w = sample_shape[2];
  std::int64_t oh = ((h - 4) / 2 - 4) / 2, ow = ((w - 4) / 2 - 4) / 2;
  if (oh < 1 || ow < 1)
    throw std::invalid_argument("--model cnn needs images of at least 16x16, got " + std::to_string(h) + "x" +
                                std::to_string(w));
  net->push_back(std::make_shared<Conv2d>(c, 16, 5, 1, 0, true, gen));
  net->push_back(std::make_shared<ReLU>(true));
  net->push_back(std::make_shared<MaxPool2d>(2));
  net->push_back(std::make_shared<Conv2d>(16, 32, 5, 1, 0, true, gen));
  net->push_back(std::make_shared<ReLU>(true));
  net->push_back(std::make_shared<MaxPool2d>(2));
  net->push_back(std::make_shared<Flatten>());
  net->push_back(std::make_shared<Linear>(32 * oh * ow, outputs, true, gen));
  add_head();
  return net;
}

}  // namespace zg
