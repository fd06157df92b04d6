// distributed.h over OpenMPI.
#include <mpi.h>
#include <spdlog/spdlog.h>

#include <cassert>
#include <chrono>
#include <cstdlib>
#include <cstring>

#include "train/distributed.h"
#include "train/values.h"

namespace zg {

namespace {

World the_world;
bool started = false;
double summing_seconds = 0;

// The job's size as the launcher announces it, or 1.
int launched_size() {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE"})
    if (const char* v = std::getenv(name)) return std::max(1, std::atoi(v));
  return 1;
}

// Sums a bucket of gradients of type T: weight × each gradient packed in parameter order, one
// MPI_Allreduce per kBucketBytes, unpacked into fresh gradient tensors.
template <class T>
void sum_buckets(const std::vector<Tensor>& params, double weight, MPI_Datatype type) {
  const std::size_t per_bucket = kBucketBytes / sizeof(T);
  std::vector<T> bucket;
  bucket.reserve(per_bucket);
  std::size_t first = 0;  // the first parameter of the bucket being filled
  auto flush = [&](std::size_t end) {
    MPI_Allreduce(MPI_IN_PLACE, bucket.data(), static_cast<int>(bucket.size()), type, MPI_SUM, MPI_COMM_WORLD);
    std::size_t at = 0;
    for (std::size_t i = first; i < end; ++i) {
      Tensor g = zeros(params[i].shape(), params[i].dtype());
      const auto n = static_cast<std::size_t>(g.numel());
      std::memcpy(g.data<T>(), bucket.data() + at, n * sizeof(T));
      at += n;
      params[i].set_grad(g);
    }
    bucket.clear();
    first = end;
  };
  for (std::size_t i = 0; i < params.size(); ++i) {
    const auto n = static_cast<std::size_t>(params[i].numel());
    // A parameter larger than a bucket travels alone.
    if (!bucket.empty() && bucket.size() + n > per_bucket) flush(i);
    const Tensor g = params[i].grad();
    if (g.defined()) {
      const T* src = g.data<T>();
      for (std::size_t k = 0; k < n; ++k) bucket.push_back(static_cast<T>(weight * src[k]));
    } else {
      bucket.insert(bucket.end(), n, T{0});
    }
  }
  if (!bucket.empty()) flush(params.size());
}

}  // namespace

bool built_with_mpi() { return true; }

void init_distributed(int& argc, char**& argv) {
  if (started || launched_size() == 1) return;
  MPI_Init(&argc, &argv);
  started = true;
  MPI_Comm_rank(MPI_COMM_WORLD, &the_world.rank);
  MPI_Comm_size(MPI_COMM_WORLD, &the_world.size);
  // One voice: the other ranks log warnings and errors only.
  if (!the_world.root()) spdlog::set_level(spdlog::level::warn);
}

void finalize_distributed() {
  if (!started) return;
  MPI_Finalize();
  started = false;
}

void abort_distributed(int code) {
  if (started) MPI_Abort(MPI_COMM_WORLD, code);
  std::exit(code);
}

const World& world() { return the_world; }

std::pair<std::int64_t, std::int64_t> rank_slice(std::int64_t n) {
  const std::int64_t r = the_world.rank, size = the_world.size;
  return {r * n / size, (r + 1) * n / size};
}

void sum_over_ranks(std::vector<double>& values) {
  if (!the_world.distributed() || values.empty()) return;
  MPI_Allreduce(MPI_IN_PLACE, values.data(), static_cast<int>(values.size()), MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
}

void sum_gradients(const std::vector<Tensor>& params, double weight, std::vector<double>& extra) {
  if (!the_world.distributed()) return;
  const auto begin = std::chrono::steady_clock::now();
  if (!params.empty() && params[0].dtype() == DType::Float64)
    sum_buckets<double>(params, weight, MPI_DOUBLE);
  else
    sum_buckets<float>(params, weight, MPI_FLOAT);
  sum_over_ranks(extra);
  summing_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
}

double gradient_sum_seconds() { return summing_seconds; }

void broadcast_tensors(const std::vector<Tensor>& tensors) {
  if (!the_world.distributed()) return;
  for (const Tensor& t : tensors) {
    const int n = static_cast<int>(t.numel());
    if (t.dtype() == DType::Float32) MPI_Bcast(t.data<float>(), n, MPI_FLOAT, 0, MPI_COMM_WORLD);
    else if (t.dtype() == DType::Float64) MPI_Bcast(t.data<double>(), n, MPI_DOUBLE, 0, MPI_COMM_WORLD);
    else MPI_Bcast(t.data<std::int64_t>(), n, MPI_INT64_T, 0, MPI_COMM_WORLD);
  }
}

void broadcast_bytes(std::string& bytes) {
  if (!the_world.distributed()) return;
  auto size = static_cast<long long>(bytes.size());
  MPI_Bcast(&size, 1, MPI_LONG_LONG, 0, MPI_COMM_WORLD);
  bytes.resize(static_cast<std::size_t>(size));
  MPI_Bcast(bytes.data(), static_cast<int>(size), MPI_BYTE, 0, MPI_COMM_WORLD);
}

std::vector<std::string> gather_bytes(const std::string& bytes) {
  if (!the_world.distributed()) return {bytes};
  const int size = static_cast<int>(bytes.size());
  std::vector<int> sizes(static_cast<std::size_t>(the_world.size)), offsets(sizes.size());
  MPI_Gather(&size, 1, MPI_INT, sizes.data(), 1, MPI_INT, 0, MPI_COMM_WORLD);
  std::string all;
  if (the_world.root()) {
    int total = 0;
    for (std::size_t r = 0; r < sizes.size(); ++r) offsets[r] = total, total += sizes[r];
    all.resize(static_cast<std::size_t>(total));
  }
  MPI_Gatherv(bytes.data(), size, MPI_BYTE, all.data(), sizes.data(), offsets.data(), MPI_BYTE, 0, MPI_COMM_WORLD);
  if (!the_world.root()) return {};
  std::vector<std::string> parts;
  for (std::size_t r = 0; r < sizes.size(); ++r)
    parts.push_back(all.substr(static_cast<std::size_t>(offsets[r]), static_cast<std::size_t>(sizes[r])));
  return parts;
}

}  // namespace zg
