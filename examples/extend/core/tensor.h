#pragma once
// This project's own core/tensor.h, unrelated to zoograd's: zoograd's headers are included as
// <zoograd/core/tensor.h>, so neither can shadow the other.
namespace app {
struct Tensor {
  int rank = 0;
};
}  // namespace app
