#include "zoograd/train/run/models.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>

#include "zoograd/layers/activation.h"
#include "zoograd/layers/conv2d.h"
#include "zoograd/layers/flatten.h"
#include "zoograd/layers/linear.h"
#include "zoograd/layers/pooling.h"
#include "zoograd/layers/sequential.h"
#include "zoograd/train/run/objective.h"
#include "zoograd/train/run/values.h"

namespace zg {

void check_model_fits(const TrainConfig& config, const Shape& sample_shape, std::int64_t classes, std::int64_t batch) {
  // In doubles: the counts of a model too large to build must not overflow on the way to the refusal.
  const Objective objective(config.loss, config.loss_params);
  const double head = objective.needs_head() ? static_cast<double>(classes) * static_cast<double>(config.embedding_dim) : 0;
  const double outputs = static_cast<double>(objective.needs_head() ? config.embedding_dim : classes);
  double parameters = head, activations = outputs + static_cast<double>(classes);  // per sample
  double width = 1;
  for (std::int64_t d : sample_shape) width *= static_cast<double>(d);
  if (config.model == "mlp") {
    for (std::int64_t h : config.hidden) {
      parameters += (width + 1) * static_cast<double>(h);
      activations += 2 * static_cast<double>(h);  // the layer's output and its ReLU's
      width = static_cast<double>(h);
    }
  } else if (sample_shape.size() == 3) {  // build_model refuses other shapes for a cnn
    // The two convolutions' outputs and their im2col columns (25 values per output pixel and input channel).
    activations += 3 * width * (16 + 25);
    const double channels = static_cast<double>(sample_shape[0]);
    parameters += 16 * (25 * channels + 1) + 32 * (25 * 16 + 1);
    width = 32 * std::max(0.0, std::floor((std::floor((static_cast<double>(sample_shape[1]) - 4) / 2) - 4) / 2)) *
            std::max(0.0, std::floor((std::floor((static_cast<double>(sample_shape[2]) - 4) / 2) - 4) / 2));
  }
  parameters += (width + 1) * outputs;
  const auto element = static_cast<double>(dtype_size(config.tensor_dtype()));
  const double bytes = element * (4 * parameters + 2 * activations * static_cast<double>(batch));
  const double memory = static_cast<double>(::sysconf(_SC_PHYS_PAGES)) * static_cast<double>(::sysconf(_SC_PAGE_SIZE));
  if (bytes > memory) {
    char text[160];
    std::snprintf(text, sizeof text, "needs about %.3g GiB for %.3g parameters and a batch of %lld, more than this "
                  "machine's %.3g GiB", bytes / (1 << 30), parameters, static_cast<long long>(batch), memory / (1 << 30));
    throw UsageError(std::string("the model ") + text + "; lower --hidden, --embedding-dim or --batch-size");
  }
}

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
      net->push_back(std::make_shared<Linear>(width, h, gen));
      net->push_back(std::make_shared<ReLU>(true));
      width = h;
    }
    net->push_back(std::make_shared<Linear>(width, outputs, gen));
    add_head();
    net->to(config.tensor_dtype());
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
  net->push_back(std::make_shared<Conv2d>(c, 16, 5, gen));
  net->push_back(std::make_shared<ReLU>(true));
  net->push_back(std::make_shared<MaxPool2d>(2));
  net->push_back(std::make_shared<Conv2d>(16, 32, 5, gen));
  net->push_back(std::make_shared<ReLU>(true));
  net->push_back(std::make_shared<MaxPool2d>(2));
  net->push_back(std::make_shared<Flatten>());
  net->push_back(std::make_shared<Linear>(32 * oh * ow, outputs, gen));
  add_head();
  net->to(config.tensor_dtype());
  return net;
}

}  // namespace zg
