#pragma once
// The processes of one job started by mpirun (or a cluster's srun), over OpenMPI: who this process
// is among them and the few collective operations the data-parallel trainer and the distributed
// atlas need. The header knows nothing of MPI; a build without it (ZG_MPI off, or OpenMPI not
// installed) links distributed_local.cpp, in which the job is always this one process.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "zoograd/core/tensor.h"

namespace zg {

struct World {
  int rank = 0, size = 1;
  bool distributed() const { return size > 1; }
  bool root() const { return rank == 0; }
};

// Starts MPI when the environment shows a launch of several processes (OMPI_COMM_WORLD_SIZE of
// mpirun, PMI_SIZE of srun); otherwise, and when called twice, does nothing. A build without MPI
// started as one of several processes throws UsageError: each copy would train alone and write the
// same files.
void init_distributed(int& argc, char**& argv);
// Ends MPI after the last collective call (every rank calls it).
void finalize_distributed();
// Ends every process of the job with this exit code: for a failure one rank met alone, after which
// the others would wait forever in their next collective call.
[[noreturn]] void abort_distributed(int code);
// This process within the job (rank 0 of 1 outside a distributed launch).
const World& world();
// Whether this build has MPI.
bool built_with_mpi();

// This rank's contiguous share [begin, end) of n items: rank r of N takes r·n/N … (r+1)·n/N, so
// shares differ by at most one and follow rank order.
std::pair<std::int64_t, std::int64_t> rank_slice(std::int64_t n);

// Sums over the ranks, in place. Gradient buckets go through sum_gradients below.
void sum_over_ranks(std::vector<double>& values);

// Replaces every parameter's gradient by the sum over the ranks of weight × its gradient (a rank
// without one contributes zeros; every parameter has one afterwards), and sums `extra` in the same
// step. The gradients travel in buckets of at most kBucketBytes, in parameter order, so that a step
// makes few calls and every rank adds the same numbers in the same order (bit-identical reruns).
// All parameters must have one floating dtype.
inline constexpr std::size_t kBucketBytes = std::size_t{4} << 20;
void sum_gradients(const std::vector<Tensor>& params, double weight, std::vector<double>& extra);

// Seconds spent in sum_gradients since the start (the all-reduce's share of training time).
double gradient_sum_seconds();

// The root's values of these tensors on every rank (BatchNorm's running statistics), in place.
void broadcast_tensors(const std::vector<Tensor>& tensors);
// The root's bytes on every rank.
void broadcast_bytes(std::string& bytes);
// Every rank's bytes at the root, in rank order; an empty vector on the other ranks.
std::vector<std::string> gather_bytes(const std::string& bytes);

}  // namespace zg
