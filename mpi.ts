/**
 * MPI through FFI: the MPI transport and session (OpenMPI and MPICH ABIs),
 * launcher helpers, and the MPI library's own alltoallv as a baseline.
 *
 * @module
 */
export * from "./transports/mpi/mod.ts";
export * from "./collectives/mpi_native.ts";
