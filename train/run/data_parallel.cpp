#include "zoograd/train/run/data_parallel.h"

#include <cmath>
#include <numeric>

#include "zoograd/train/run/distributed.h"
#include "zoograd/train/run/values.h"

namespace zg {

std::pair<std::string, std::string> on_root(const std::function<std::pair<std::string, std::string>()>& work) {
  if (!world().distributed()) return work();
  // Broadcast as: exit code (0 for success), then the two strings or the error's message.
  std::string code = "0", first, second;
  std::exception_ptr error;
  if (world().root()) {
    try {
      std::tie(first, second) = work();
    } catch (const UsageError& e) {
      code = "2", first = e.what(), error = std::current_exception();
    } catch (const std::exception& e) {
      code = "1", first = e.what(), error = std::current_exception();
    }
  }
  for (std::string* s : {&code, &first, &second}) broadcast_bytes(*s);
  if (error) std::rethrow_exception(error);
  if (code != "0") throw RootFailed(std::stoi(code), first);
  return {first, second};
}

Evaluation evaluate_over_ranks(Sequential& model, const Dataset& data, const Normalize& norm,
                               const Objective& objective, std::int64_t step) {
  if (!world().distributed()) return evaluate(model, data, norm, objective, step);
  std::vector<Tensor> buffers;
  for (const auto& [name, buffer] : model.named_buffers()) buffers.push_back(buffer);
  broadcast_tensors(buffers);
  const auto [first, last] = rank_slice(data.size());
  std::vector<std::int64_t> mine(static_cast<std::size_t>(last - first));
  std::iota(mine.begin(), mine.end(), first);
  const auto classes = static_cast<std::size_t>(data.num_classes);
  // Per rank: the loss summed over its samples, then the confusion matrix row by row.
  std::vector<double> sums(1 + classes * classes, 0.0);
  if (!mine.empty()) {
    Evaluation part = evaluate(model, data.subset(mine), norm, objective, step);
    sums[0] = part.loss * static_cast<double>(mine.size());
    for (std::size_t i = 0; i < classes; ++i)
      for (std::size_t j = 0; j < classes; ++j) sums[1 + i * classes + j] = static_cast<double>(part.confusion[i][j]);
  }
  sum_over_ranks(sums);
  Evaluation e;
  e.confusion.assign(classes, std::vector<std::int64_t>(classes));
  std::int64_t correct = 0;
  for (std::size_t i = 0; i < classes; ++i)
    for (std::size_t j = 0; j < classes; ++j) {
      e.confusion[i][j] = std::llround(sums[1 + i * classes + j]);
      if (i == j) correct += e.confusion[i][j];
    }
  const auto n = static_cast<double>(data.size());
  e.loss = sums[0] / n;
  e.accuracy = static_cast<double>(correct) / n;
  return e;
}

}  // namespace zg
