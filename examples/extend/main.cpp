// An extender's program: this project's loss joins zoograd's catalog (register_loss), its layer
// and its loss pass zoograd's generic checks (zoograd::testing), and a network with both trains
// with zoograd's SGD on zoograd's synthetic blobs, its loss taken from the catalog by name.
#include <cstdio>

#include <zoograd/layers/check_layer.h>
#include <zoograd/losses/check_loss.h>
#include <zoograd/zoograd.h>

#include "core/tensor.h"  // this project's own core/ (see core/tensor.h)
#include "dice_loss.h"
#include "soft_clip.h"

int main() {
  using namespace zg;
  register_loss(dice_loss_spec());
  const LossCheck loss_check = check_loss(find_loss("dice_loss"));
  const GradcheckResult layer_check =
      check_layer([](Generator&) { return std::make_shared<SoftClip>(1.5); }, {4, 3});
  std::printf("dice_loss: %s\nSoftClip: %s\n", loss_check.ok() ? "generic checks pass" : loss_check.text().c_str(),
              layer_check.ok ? "gradcheck passes" : layer_check.message.c_str());

  Generator gen(0);
  Dataset data = make_blobs(100, 3, 0.5, gen);
  const auto n = static_cast<std::int64_t>(data.labels.size());
  Tensor x = from_data<float>(data.features, {n, 2});
  Tensor y = from_data<std::int64_t>(data.labels, {n});

  Sequential model{std::make_shared<Linear>(2, 16, gen), std::make_shared<SoftClip>(),
                   std::make_shared<Linear>(16, 3, gen)};
  SGD opt(model.parameters(), {.lr = 0.5, .momentum = 0.9});
  const LossSpec& loss = find_loss("dice_loss");
  for (int step = 0; step < 200; ++step) {
    model.zero_grad();
    loss.call({model.forward(x), y}, {}, Reduction::Mean).backward();
    opt.step();
  }
  const double accuracy = mean(eq(argmax(model.forward(x), 1), y).to(DType::Float64)).item();
  std::printf("accuracy %.3f\n", accuracy);
  app::Tensor own;  // the project's own type, beside zoograd's
  return loss_check.ok() && layer_check.ok && accuracy > 0.9 && own.rank == 0 ? 0 : 1;
}
