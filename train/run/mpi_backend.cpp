// The MPI calls of distributed.cpp over OpenMPI: the plug-in libzoograd_mpi.so (mpi_backend.h).
#include "zoograd/train/run/mpi_backend.h"

#include <mpi.h>

#include <algorithm>

namespace {

// Counts above INT_MAX go in pieces (an MPI count is an int).
template <class F>
void in_pieces(std::size_t n, F call) {
  constexpr std::size_t kMax = 1u << 30;
  for (std::size_t at = 0; at < n; at += kMax) call(at, static_cast<int>(std::min(kMax, n - at)));
}

void init(int* argc, char*** argv, int* rank, int* size) {
  MPI_Init(argc, argv);
  MPI_Comm_rank(MPI_COMM_WORLD, rank);
  MPI_Comm_size(MPI_COMM_WORLD, size);
}
void finalize() { MPI_Finalize(); }
void abort_job(int code) { MPI_Abort(MPI_COMM_WORLD, code); }
void sum_floats(float* v, std::size_t n) {
  in_pieces(n, [&](std::size_t at, int k) { MPI_Allreduce(MPI_IN_PLACE, v + at, k, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD); });
}
void sum_doubles(double* v, std::size_t n) {
  in_pieces(n, [&](std::size_t at, int k) { MPI_Allreduce(MPI_IN_PLACE, v + at, k, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD); });
}
void broadcast(void* bytes, std::size_t n) {
  in_pieces(n, [&](std::size_t at, int k) { MPI_Bcast(static_cast<char*>(bytes) + at, k, MPI_BYTE, 0, MPI_COMM_WORLD); });
}
void gather_sizes(long long n, long long* sizes) { MPI_Gather(&n, 1, MPI_LONG_LONG, sizes, 1, MPI_LONG_LONG, 0, MPI_COMM_WORLD); }
// Rank by rank, as point-to-point messages to rank 0 (Gatherv's counts and offsets are ints).
void gather(const void* bytes, long long n, void* all, const long long* sizes) {
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  if (rank != 0) {
    in_pieces(static_cast<std::size_t>(n), [&](std::size_t at, int k) {
      MPI_Send(static_cast<const char*>(bytes) + at, k, MPI_BYTE, 0, 0, MPI_COMM_WORLD);
    });
    return;
  }
  char* out = static_cast<char*>(all);
  for (std::size_t k = 0; k < static_cast<std::size_t>(n); ++k) out[k] = static_cast<const char*>(bytes)[k];
  out += n;
  for (int r = 1; r < size; ++r) {
    in_pieces(static_cast<std::size_t>(sizes[r]), [&](std::size_t at, int k) {
      MPI_Recv(out + at, k, MPI_BYTE, r, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    });
    out += sizes[r];
  }
}

const zg::MpiBackend backend = {init, finalize, abort_job, sum_floats, sum_doubles, broadcast, gather_sizes, gather};

}  // namespace

extern "C" const zg::MpiBackend* zoograd_mpi_backend() { return &backend; }
