// The op table's cases for the shape ops, convolution and pooling (tests/op_table.h).
#include "zoograd/tests/op_table_cases.h"

namespace zg_tests {

void shape_cases(Table& t) {
  using namespace zg;
  t.add("reshape/infer", [](Sampler& s) { return Inputs{s.normal({2, 3, 4})}; },
        [](const Inputs& x) { return reshape(x[0], {-1, 4}); });
  t.add("reshape/to_scalar", [](Sampler& s) { return Inputs{s.normal({1, 1})}; },
        [](const Inputs& x) { return reshape(x[0], {}); });
  // reshape shares storage: a following op must read the shared values.
  t.add("reshape/then_mul", [](Sampler& s) { return Inputs{s.normal({6}), s.normal({2, 3})}; },
        [](const Inputs& x) { return reshape(x[0], {2, 3}) * x[1]; });
  t.add("flatten/default", [](Sampler& s) { return Inputs{s.normal({2, 3, 2})}; },
        [](const Inputs& x) { return flatten(x[0]); });
  t.add("flatten/middle_dims", [](Sampler& s) { return Inputs{s.normal({2, 3, 2, 2})}; },
        [](const Inputs& x) { return flatten(x[0], 1, 2); });
  t.add("flatten/scalar", [](Sampler& s) { return Inputs{s.normal({})}; },
        [](const Inputs& x) { return flatten(x[0]); });
  // Zero-size tensors: nothing to differentiate numerically, but the ops and their backward must run.
  t.add("flatten/zero_size", [](Sampler& s) { return Inputs{s.normal({2, 0, 3})}; },
        [](const Inputs& x) { return flatten(x[0], 1); });
  t.add("reshape/zero_size_infer", [](Sampler& s) { return Inputs{s.normal({2, 0, 3})}; },
        [](const Inputs& x) { return reshape(x[0], {-1, 3}); });
  t.add("concat/with_empty_piece", [](Sampler& s) { return Inputs{s.normal({2, 0}), s.normal({2, 3})}; },
        [](const Inputs& x) { return concat({x[0], x[1]}, 1); });
  t.add("index_select/empty_index", [](Sampler& s) { return Inputs{s.normal({2, 3}), Sampler::index({}, {0})}; },
        [](const Inputs& x) { return index_select(x[0], 1, x[1]); });
  t.add("unsqueeze/front", [](Sampler& s) { return Inputs{s.normal({3, 4})}; },
        [](const Inputs& x) { return unsqueeze(x[0], 0); });
  t.add("unsqueeze/negative_dim", [](Sampler& s) { return Inputs{s.normal({3, 4})}; },
        [](const Inputs& x) { return unsqueeze(x[0], -1); });
  t.add("squeeze/size_one_dim", [](Sampler& s) { return Inputs{s.normal({3, 1, 4})}; },
        [](const Inputs& x) { return squeeze(x[0], 1); });
  t.add("squeeze/not_size_one", [](Sampler& s) { return Inputs{s.normal({3, 4})}; },
        [](const Inputs& x) { return squeeze(x[0], 0) * 2.0; });
  t.add("permute/3d", [](Sampler& s) { return Inputs{s.normal({2, 3, 4})}; },
        [](const Inputs& x) { return permute(x[0], {2, 0, 1}); });
  t.add("permute/negative_dims", [](Sampler& s) { return Inputs{s.normal({2, 3, 2})}; },
        [](const Inputs& x) { return permute(x[0], {-1, -3, -2}); });
  t.add("permute/batch_one", [](Sampler& s) { return Inputs{s.normal({1, 3, 2, 2})}; },
        [](const Inputs& x) { return permute(x[0], {0, 2, 3, 1}); });
  t.add("transpose/2d", [](Sampler& s) { return Inputs{s.normal({3, 4})}; },
        [](const Inputs& x) { return transpose(x[0], 0, 1); });
  t.add("transpose/3d_negative", [](Sampler& s) { return Inputs{s.normal({2, 3, 4})}; },
        [](const Inputs& x) { return transpose(x[0], -1, 0); });
  t.add("concat/dim0", [](Sampler& s) { return Inputs{s.normal({2, 3}), s.normal({1, 3})}; },
        [](const Inputs& x) { return concat({x[0], x[1]}, 0); });
  t.add("concat/three_one_constant", [](Sampler& s) { return Inputs{s.normal({2, 1}), s.normal({2, 3}, false), s.normal({2, 2})}; },
        [](const Inputs& x) { return concat({x[0], x[1], x[2]}, 1); });
  t.add("concat/negative_dim_3d", [](Sampler& s) { return Inputs{s.normal({2, 2, 2}), s.normal({2, 2, 3})}; },
        [](const Inputs& x) { return concat({x[0], x[1]}, -1); });
  t.add("concat/single", [](Sampler& s) { return Inputs{s.normal({2, 3})}; },
        [](const Inputs& x) { return concat({x[0]}, 1); });
  t.add("stack/dim0", [](Sampler& s) { return Inputs{s.normal({2, 3}), s.normal({2, 3})}; },
        [](const Inputs& x) { return stack({x[0], x[1]}, 0); });
  t.add("stack/last_dim", [](Sampler& s) { return Inputs{s.normal({3}), s.normal({3}), s.normal({3})}; },
        [](const Inputs& x) { return stack({x[0], x[1], x[2]}, -1); });
  t.add("slice/basic", [](Sampler& s) { return Inputs{s.normal({4, 3})}; },
        [](const Inputs& x) { return slice(x[0], 0, 1, 3); });
  t.add("slice/step_two", [](Sampler& s) { return Inputs{s.normal({2, 5})}; },
        [](const Inputs& x) { return slice(x[0], 1, 0, 5, 2); });
  t.add("slice/negative_start", [](Sampler& s) { return Inputs{s.normal({2, 3, 4})}; },
        [](const Inputs& x) { return slice(x[0], -1, -3, 4); });
  t.add("slice/clipped_end_step_three", [](Sampler& s) { return Inputs{s.normal({7, 2})}; },
        [](const Inputs& x) { return slice(x[0], 0, 1, 100, 3); });
  t.add("slice_scatter/dim1_step_two", [](Sampler& s) { return Inputs{s.normal({2, 5}), s.normal({2, 3})}; },
        [](const Inputs& x) { return slice_scatter(x[0], x[1], 1, 0, 5, 2); });
  t.add("slice_scatter/dim0", [](Sampler& s) { return Inputs{s.normal({4, 3}), s.normal({2, 3})}; },
        [](const Inputs& x) { return slice_scatter(x[0], x[1], 0, 1, 3); });
  t.add("slice_scatter/constant_base", [](Sampler& s) { return Inputs{s.normal({3, 4}, false), s.normal({3, 2})}; },
        [](const Inputs& x) { return slice_scatter(x[0], x[1], -1, -2, 4); });
  t.add("index_select/dim0_repeated", [](Sampler& s) { return Inputs{s.normal({4, 3}), Sampler::index({2, 0, 2, 3, 2}, {5})}; },
        [](const Inputs& x) { return index_select(x[0], 0, x[1]); });
  t.add("index_select/dim1", [](Sampler& s) { return Inputs{s.normal({2, 4, 2}), Sampler::index({3, 1}, {2})}; },
        [](const Inputs& x) { return index_select(x[0], 1, x[1]); });
  t.add("index_add/dim0_repeated",
        [](Sampler& s) { return Inputs{s.normal({4, 3}), Sampler::index({2, 0, 2, 3, 2}, {5}), s.normal({5, 3})}; },
        [](const Inputs& x) { return index_add(x[0], 0, x[1], x[2]); });
  t.add("index_add/dim1", [](Sampler& s) { return Inputs{s.normal({2, 4, 2}), Sampler::index({3, 1}, {2}), s.normal({2, 2, 2})}; },
        [](const Inputs& x) { return index_add(x[0], -2, x[1], x[2]); });
  t.add("gather/dim1", [](Sampler& s) { return Inputs{s.normal({3, 4}), s.random_index({3, 5}, 4)}; },
        [](const Inputs& x) { return gather(x[0], 1, x[1]); });
  t.add("gather/dim0_smaller_index", [](Sampler& s) { return Inputs{s.normal({4, 3}), s.random_index({2, 2}, 4)}; },
        [](const Inputs& x) { return gather(x[0], 0, x[1]); });
  t.add("scatter_add/dim1", [](Sampler& s) { return Inputs{s.normal({3, 4}), s.random_index({3, 5}, 4), s.normal({3, 5})}; },
        [](const Inputs& x) { return scatter_add(x[0], 1, x[1], x[2]); });
  t.add("scatter_add/dim0_smaller_index",
        [](Sampler& s) { return Inputs{s.normal({4, 3}), s.random_index({2, 2}, 4), s.normal({2, 2})}; },
        [](const Inputs& x) { return scatter_add(x[0], 0, x[1], x[2]); });
  t.add("broadcast_to/row", [](Sampler& s) { return Inputs{s.normal({4})}; },
        [](const Inputs& x) { return broadcast_to(x[0], {3, 4}); });
  t.add("broadcast_to/leading_and_size_one", [](Sampler& s) { return Inputs{s.normal({3, 1})}; },
        [](const Inputs& x) { return broadcast_to(x[0], {2, 3, 4}); });
  t.add("broadcast_to/scalar", [](Sampler& s) { return Inputs{s.normal({})}; },
        [](const Inputs& x) { return broadcast_to(x[0], {2, 3}); });
  t.add("sum_to/row", [](Sampler& s) { return Inputs{s.normal({2, 3, 4})}; },
        [](const Inputs& x) { return sum_to(x[0], {4}); });
  t.add("sum_to/column", [](Sampler& s) { return Inputs{s.normal({2, 3, 4})}; },
        [](const Inputs& x) { return sum_to(x[0], {3, 1}); });
  t.add("sum_to/scalar", [](Sampler& s) { return Inputs{s.normal({3, 4})}; },
        [](const Inputs& x) { return sum_to(x[0], {}); });
  t.add("normalize/p2_dim1", [](Sampler& s) { return Inputs{s.normal({3, 4})}; },
        [](const Inputs& x) { return normalize(x[0]); });
  t.add("normalize/p2_last_dim_3d", [](Sampler& s) { return Inputs{s.normal({2, 2, 3})}; },
        [](const Inputs& x) { return normalize(x[0], 2.0, -1); });
  t.add("normalize/p3_dim0", [](Sampler& s) { return Inputs{s.nonzero({3, 4})}; },
        [](const Inputs& x) { return normalize(x[0], 3.0, 0); });
  t.add("normalize/p1_batch_one", [](Sampler& s) { return Inputs{s.nonzero({1, 4})}; },
        [](const Inputs& x) { return normalize(x[0], 1.0, 1); });
  t.add("clone/matrix", [](Sampler& s) { return Inputs{s.normal({3, 4})}; },
        [](const Inputs& x) { return x[0].clone(); });
  // to: a round trip through the other floating dtype. Values are small (|x| < 4e-3) so that
  // float32 rounding of x ± eps moves the central difference by less than rtol: the rounding error
  // |x|·2⁻²⁴ over 2·eps is at most 4e-3·6e-8/1e-6 ≈ 2.4e-4 of the gradient.
  t.add_first_order_only(
      "to/round_trip",
      [](Sampler& s) { return Inputs{s.uniform({3, 4}, -4e-3, 4e-3)}; },
      [](const Inputs& x) {
        DType other = x[0].dtype() == DType::Float64 ? DType::Float32 : DType::Float64;
        return x[0].to(other).to(x[0].dtype());
      },
      "the gradient flows through float32: gradgradcheck differentiates with respect to the upstream gradient v "
      "(|v| ~ 1), and float32 rounding of v ± 1e-6 makes central differences in v meaningless");
}

void conv_cases(Table& t) {
  using namespace zg;
  t.add("im2col/kernel2", [](Sampler& s) { return Inputs{s.normal({1, 2, 3, 3})}; },
        [](const Inputs& x) { return im2col(x[0], 2); });
  t.add("im2col/stride2_padding1", [](Sampler& s) { return Inputs{s.normal({2, 1, 4, 3})}; },
        [](const Inputs& x) { return im2col(x[0], 3, 2, 1); });
  t.add("im2col/rect_kernel", [](Sampler& s) { return Inputs{s.normal({1, 2, 3, 4})}; },
        [](const Inputs& x) { return im2col(x[0], {2, 3}, {1, 1}, {0, 1}); });
  t.add("im2col/stride_above_kernel", [](Sampler& s) { return Inputs{s.normal({1, 1, 5, 5})}; },
        [](const Inputs& x) { return im2col(x[0], 2, 3, 1); });
  // col2im only appears in im2col's backward: called directly on columns of the right shape.
  t.add("col2im/kernel2", [](Sampler& s) { return Inputs{s.normal({8, 4})}; },  // image (1,2,3,3)
        [](const Inputs& x) { return col2im(x[0], {1, 2, 3, 3}, 2); });
  t.add("col2im/stride2_padding1", [](Sampler& s) { return Inputs{s.normal({9, 8})}; },  // image (2,1,4,3)
        [](const Inputs& x) { return col2im(x[0], {2, 1, 4, 3}, 3, 2, 1); });
  t.add("conv2d/bias", [](Sampler& s) { return Inputs{s.normal({2, 2, 4, 4}), s.normal({3, 2, 3, 3}), s.normal({3})}; },
        [](const Inputs& x) { return conv2d(x[0], x[1], x[2]); });
  t.add("conv2d/stride_padding_no_bias", [](Sampler& s) { return Inputs{s.normal({1, 2, 5, 4}), s.normal({2, 2, 3, 3})}; },
        [](const Inputs& x) { return conv2d(x[0], x[1], Tensor(), 2, 1); });
  t.add("conv2d/batch_one_rect_kernel",
        [](Sampler& s) { return Inputs{s.normal({1, 1, 3, 4}), s.normal({2, 1, 2, 3}), s.normal({2})}; },
        [](const Inputs& x) { return conv2d(x[0], x[1], x[2], {1, 1}, {1, 0}); });
  t.add("conv2d/stride_above_kernel", [](Sampler& s) { return Inputs{s.normal({1, 1, 5, 5}), s.normal({2, 1, 2, 2})}; },
        [](const Inputs& x) { return conv2d(x[0], x[1], Tensor(), 3, 1); });
  t.add("conv2d/constant_input", [](Sampler& s) { return Inputs{s.normal({2, 1, 3, 3}, false), s.normal({2, 1, 2, 2}), s.normal({2})}; },
        [](const Inputs& x) { return conv2d(x[0], x[1], x[2]); });
  // batch_norm without running statistics in training, so that gradcheck's repeated calls see one function.
  t.add("batch_norm/training_4d",
        [](Sampler& s) { return Inputs{s.normal({3, 2, 2, 2}), s.normal({2}), s.normal({2})}; },
        [](const Inputs& x) { return batch_norm(x[0], {}, {}, x[1], x[2], {.training = true}); });
  t.add("batch_norm/training_2d_batch2", [](Sampler& s) { return Inputs{s.normal({2, 3}), s.normal({3}), s.normal({3})}; },
        [](const Inputs& x) { return batch_norm(x[0], {}, {}, x[1], x[2], {.training = true, .eps = 1e-3}); });
  t.add("batch_norm/training_no_affine", [](Sampler& s) { return Inputs{s.normal({2, 2, 3})}; },
        [](const Inputs& x) { return batch_norm(x[0], {}, {}, {}, {}, {.training = true}); });
  t.add("batch_norm/evaluation",
        [](Sampler& s) {
          return Inputs{s.normal({2, 3, 2, 2}), s.normal({3}, false), s.uniform({3}, 0.5, 2.0, false), s.normal({3}),
                        s.normal({3})};
        },
        [](const Inputs& x) { return batch_norm(x[0], x[1], x[2], x[3], x[4]); });
  t.add("max_pool2d/kernel2", [](Sampler& s) { return Inputs{s.distinct({1, 2, 4, 4})}; },
        [](const Inputs& x) { return max_pool2d(x[0], 2); });
  t.add("max_pool2d/overlap_padding", [](Sampler& s) { return Inputs{s.distinct({2, 1, 4, 3})}; },
        [](const Inputs& x) { return max_pool2d(x[0], 3, Size2(1), 1); });
  t.add("max_pool2d/rect_stride", [](Sampler& s) { return Inputs{s.distinct({1, 1, 4, 5})}; },
        [](const Inputs& x) { return max_pool2d(x[0], {2, 3}, Size2(2, 1)); });
  t.add("max_pool2d/stride_above_kernel", [](Sampler& s) { return Inputs{s.distinct({1, 2, 5, 5})}; },
        [](const Inputs& x) { return max_pool2d(x[0], 2, Size2(3), 1); });
  t.add("max_pool2d_backward/repeated_positions",
        [](Sampler& s) { return Inputs{s.normal({1, 2, 2, 2}), s.random_index({1, 2, 4}, 16)}; },
        [](const Inputs& x) { return max_pool2d_backward(x[0], x[1], {1, 2, 4, 4}); });
  t.add("max_pool2d_backward/batch2", [](Sampler& s) { return Inputs{s.normal({2, 1, 2, 3}), s.random_index({2, 1, 6}, 20)}; },
        [](const Inputs& x) { return max_pool2d_backward(x[0], x[1], {2, 1, 4, 5}); });
  t.add("avg_pool2d/kernel2", [](Sampler& s) { return Inputs{s.normal({1, 2, 4, 4})}; },
        [](const Inputs& x) { return avg_pool2d(x[0], 2); });
  t.add("avg_pool2d/stride2_padding1", [](Sampler& s) { return Inputs{s.normal({2, 1, 5, 4})}; },
        [](const Inputs& x) { return avg_pool2d(x[0], 3, Size2(2), 1); });
  t.add("avg_pool2d/rect_overlap", [](Sampler& s) { return Inputs{s.normal({1, 1, 3, 4})}; },
        [](const Inputs& x) { return avg_pool2d(x[0], {2, 3}, Size2(1)); });
  t.add("avg_pool2d/ragged_edge", [](Sampler& s) { return Inputs{s.normal({1, 1, 5, 5})}; },
        [](const Inputs& x) { return avg_pool2d(x[0], 2); });
  // avg_pool2d_backward only appears in avg_pool2d's backward: called directly.
  t.add("avg_pool2d_backward/kernel2", [](Sampler& s) { return Inputs{s.normal({1, 2, 2, 2})}; },
        [](const Inputs& x) { return avg_pool2d_backward(x[0], {1, 2, 4, 4}, 2, 2, 0); });
  t.add("avg_pool2d_backward/overlap_padding", [](Sampler& s) { return Inputs{s.normal({2, 1, 3, 2})}; },
        [](const Inputs& x) { return avg_pool2d_backward(x[0], {2, 1, 5, 4}, 3, 2, 1); });
}

}  // namespace zg_tests
