// distributed.h in a build without MPI: the job is this one process.
#include <cstdlib>
#include <string>

#include "train/distributed.h"
#include "train/values.h"

namespace zg {

namespace {
const World one_process;
}

bool built_with_mpi() { return false; }

void init_distributed(int&, char**&) {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE"}) {
    const char* v = std::getenv(name);
    if (v && std::atoi(v) > 1)
      throw UsageError(std::string("started as one of ") + v + " processes (" + name +
                       "), but this zoograd was built without MPI, so each would run alone and write the same "
                       "files; install OpenMPI (scripts/setup: libopenmpi-dev openmpi-bin) and rebuild (cmake "
                       "-DZG_MPI=ON), or run zoograd without mpirun");
  }
}

void finalize_distributed() {}
void abort_distributed(int code) { std::exit(code); }
const World& world() { return one_process; }
std::pair<std::int64_t, std::int64_t> rank_slice(std::int64_t n) { return {0, n}; }
void sum_over_ranks(std::vector<double>&) {}
void sum_gradients(const std::vector<Tensor>&, double, std::vector<double>&) {}
double gradient_sum_seconds() { return 0; }
void broadcast_tensors(const std::vector<Tensor>&) {}
void broadcast_bytes(std::string&) {}
std::vector<std::string> gather_bytes(const std::string& bytes) { return {bytes}; }

}  // namespace zg
