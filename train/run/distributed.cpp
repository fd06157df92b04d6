#include "zoograd/train/run/distributed.h"

#include <dlfcn.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "zoograd/train/run/mpi_backend.h"
#include "zoograd/train/run/values.h"

namespace zg {

namespace {

World the_world;
const MpiBackend* mpi = nullptr;  // loaded by init_distributed under mpirun
double summing_seconds = 0;

// The job's size as the launcher announces it (mpirun's OMPI_COMM_WORLD_SIZE, srun's PMI_SIZE), or 1.
int launched_size(std::string* variable) {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE"})
    if (const char* v = std::getenv(name)) {
      *variable = name;
      return std::max(1, std::atoi(v));
    }
  return 1;
}

// The MPI plug-in: where the build put it, else beside the program.
const MpiBackend* load_backend() {
  std::vector<std::string> places;
#ifdef ZG_MPI_PLUGIN
  places.push_back(ZG_MPI_PLUGIN);
#endif
  std::error_code ec;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) places.push_back((self.parent_path() / "libzoograd_mpi.so").string());
  // RTLD_GLOBAL: OpenMPI's own components, which it loads in turn, look for libmpi's symbols.
  for (const std::string& path : places)
    if (void* lib = ::dlopen(path.c_str(), RTLD_NOW | RTLD_GLOBAL))
      if (auto entry = reinterpret_cast<const MpiBackend* (*)()>(::dlsym(lib, "zoograd_mpi_backend"))) return entry();
  return nullptr;
}

// Sums the gradients as buckets of T: weight × each gradient in parameter order, one call per
// kBucketBytes, unpacked into fresh gradient tensors.
template <class T>
void sum_buckets(const std::vector<Tensor>& params, double weight, void (*sum)(T*, std::size_t)) {
  const std::size_t per_bucket = kBucketBytes / sizeof(T);
  std::vector<T> bucket;
  bucket.reserve(per_bucket);
  std::size_t first = 0;  // the first parameter of the bucket being filled
  auto flush = [&](std::size_t end) {
    sum(bucket.data(), bucket.size());
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
    if (!bucket.empty() && bucket.size() + n > per_bucket) flush(i);  // a larger parameter travels alone
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

bool built_with_mpi() {
#ifdef ZG_MPI_PLUGIN
  return true;
#else
  return false;
#endif
}

void init_distributed(int& argc, char**& argv) {
  std::string variable;
  const int size = launched_size(&variable);
  if (mpi || size == 1) return;
  mpi = load_backend();
  if (!mpi)
    throw UsageError("started as one of " + std::to_string(size) + " processes (" + variable + "), but this zoograd " +
                     (built_with_mpi() ? "cannot load its MPI plug-in libzoograd_mpi.so (rebuild it)"
                                       : "was built without MPI") +
                     ", so each would train alone and write the same files; install OpenMPI (scripts/setup: "
                     "libopenmpi-dev openmpi-bin) and rebuild with -DZG_MPI=ON, or run zoograd without mpirun");
  mpi->init(&argc, &argv, &the_world.rank, &the_world.size);
  // One voice: the other ranks log warnings and errors only.
  if (!the_world.root()) spdlog::set_level(spdlog::level::warn);
}

void finalize_distributed() {
  if (mpi) mpi->finalize();
  mpi = nullptr;
}

void abort_distributed(int code) {
  if (mpi) mpi->abort(code);
  std::exit(code);
}

const World& world() { return the_world; }

std::pair<std::int64_t, std::int64_t> rank_slice(std::int64_t n) {
  const std::int64_t r = the_world.rank, size = the_world.size;
  return {r * n / size, (r + 1) * n / size};
}

void sum_over_ranks(std::vector<double>& values) {
  if (mpi && !values.empty()) mpi->sum_doubles(values.data(), values.size());
}

void sum_gradients(const std::vector<Tensor>& params, double weight, std::vector<double>& extra) {
  if (!mpi) return;
  const auto begin = std::chrono::steady_clock::now();
  if (!params.empty() && params[0].dtype() == DType::Float64)
    sum_buckets<double>(params, weight, mpi->sum_doubles);
  else
    sum_buckets<float>(params, weight, mpi->sum_floats);
  sum_over_ranks(extra);
  summing_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
}

double gradient_sum_seconds() { return summing_seconds; }

void broadcast_tensors(const std::vector<Tensor>& tensors) {
  if (!mpi) return;
  for (const Tensor& t : tensors) {
    const auto n = static_cast<std::size_t>(t.numel());
    if (t.dtype() == DType::Float32) mpi->broadcast(t.data<float>(), n * sizeof(float));
    else if (t.dtype() == DType::Float64) mpi->broadcast(t.data<double>(), n * sizeof(double));
    else mpi->broadcast(t.data<std::int64_t>(), n * sizeof(std::int64_t));
  }
}

void broadcast_bytes(std::string& bytes) {
  if (!mpi) return;
  auto size = static_cast<long long>(bytes.size());
  mpi->broadcast(&size, sizeof size);
  bytes.resize(static_cast<std::size_t>(size));
  mpi->broadcast(bytes.data(), bytes.size());
}

std::vector<std::string> gather_bytes(const std::string& bytes) {
  if (!mpi) return {bytes};
  std::vector<long long> sizes(static_cast<std::size_t>(the_world.size));
  mpi->gather_sizes(static_cast<long long>(bytes.size()), sizes.data());
  std::string all;
  if (the_world.root())
    for (long long s : sizes) all.resize(all.size() + static_cast<std::size_t>(s));
  mpi->gather(bytes.data(), static_cast<long long>(bytes.size()), all.data(), sizes.data());
  if (!the_world.root()) return {};
  std::vector<std::string> parts;
  std::size_t at = 0;
  for (long long s : sizes) parts.push_back(all.substr(at, static_cast<std::size_t>(s))), at += static_cast<std::size_t>(s);
  return parts;
}

}  // namespace zg
