#pragma once
// The few MPI calls zoograd makes, as a table of plain functions. mpi_backend.cpp fills it over
// OpenMPI in a plug-in of its own (libzoograd_mpi.so), which distributed.cpp loads only when
// mpirun started the process: linking libmpi into zoograd would cost every start of the program
// about 80 ms of loading (measured), mpirun or not.
#include <cstddef>

namespace zg {

struct MpiBackend {
  void (*init)(int* argc, char*** argv, int* rank, int* size);
  void (*finalize)();
  void (*abort)(int code);
  // In place over every rank, each in one MPI_Allreduce (MPI_SUM).
  void (*sum_floats)(float* values, std::size_t n);
  void (*sum_doubles)(double* values, std::size_t n);
  // Rank 0's bytes to every rank: the receivers' buffers already have the size.
  void (*broadcast)(void* bytes, std::size_t n);
  // Every rank's n bytes at rank 0 (sizes of length size, bytes of their sum there; unused elsewhere).
  void (*gather_sizes)(long long n, long long* sizes);
  void (*gather)(const void* bytes, long long n, void* all, const long long* sizes);
};

}  // namespace zg

// The plug-in's one entry point.
extern "C" const zg::MpiBackend* zoograd_mpi_backend();
