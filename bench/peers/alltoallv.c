/*
 * blsbench's native collective and MPI transport in C: the reference for the
 * cost of calling MPI through Deno FFI (bench/peers/compare.ts). It makes the
 * same MPI calls as the FFI side (bench/peers/alltoallv_ffi.ts), in the same
 * order:
 *
 * - start-up: MPI_Init_thread asking for MPI_THREAD_MULTIPLE, as the FFI
 *   session does;
 * - `alltoallv` (collectives/mpi_native.ts at lag 0, block sizes exchanged):
 *   per size, two duplicates of MPI_COMM_WORLD (sizes, data); per iteration an
 *   MPI_Alltoall of the block sizes on the first, then MPI_Alltoallv of `size`
 *   bytes to every other rank (nothing to itself through MPI) on the second;
 * - `alltoallv-known` (the same with `blockBytes`: sizes known in advance): per
 *   iteration the MPI_Alltoallv alone;
 * - `pingpong` (transports/mpi/transport.ts): half the round trip between
 *   ranks 0 and 1; per size, two duplicates of MPI_COMM_WORLD (the transport's
 *   collective and control communicators), messages on the first; a send is MPI_Isend then
 *   MPI_Test until done, a receive MPI_Improbe for any source and tag until a
 *   message is found, MPI_Get_count, MPI_Imrecv, then MPI_Test until done.
 *
 * The blocks are sent from one buffer and received into one buffer reused
 * across iterations. Each rank times every iteration with MPI_Wtime (osu
 * style: MPI_Barrier on MPI_COMM_WORLD before the timed loop, none inside it);
 * rank 0 prints, per size, the largest of the ranks' median iteration
 * latencies in microseconds.
 *
 * Before the first size, PREWARM untimed iterations of 8 bytes: the Deno side
 * needs them (V8 compiles the loop with fast FFI calls after thousands of
 * calls), and both sides get the same.
 *
 * Usage: alltoallv alltoallv|alltoallv-known|pingpong ITERS WARMUP PREWARM SIZE...
 * Output lines: `<mode> <size> <p50_us>`.
 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int compare_doubles(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double median(double *values, int n) {
  qsort(values, n, sizeof(double), compare_doubles);
  return values[n / 2];
}

static double run_alltoallv(long size, int iters, int warmup, int known, int rank, int nranks) {
  char *sendbuf = malloc(size * nranks + 1), *recvbuf = malloc(size * nranks + 1);
  int *scounts = calloc(nranks, sizeof(int)), *sdispls = calloc(nranks, sizeof(int));
  int *rcounts = calloc(nranks, sizeof(int)), *rdispls = calloc(nranks, sizeof(int));
  double *times = malloc(sizeof(double) * (iters > 0 ? iters : 1));
  MPI_Comm counts_comm, data_comm;
  MPI_Comm_dup(MPI_COMM_WORLD, &counts_comm);
  MPI_Comm_dup(MPI_COMM_WORLD, &data_comm);
  memset(sendbuf, rank, size * nranks);
  for (int q = 0; q < nranks; q++) {
    scounts[q] = q == rank ? 0 : (int)size;
    sdispls[q] = (int)(q * size);
    rcounts[q] = scounts[q];
  }
  int total = 0;
  for (int q = 0; q < nranks; q++) {
    rdispls[q] = total;
    total += rcounts[q];
  }
  MPI_Barrier(MPI_COMM_WORLD);
  for (int i = -warmup; i < iters; i++) {
    double t0 = MPI_Wtime();
    if (!known) {
      MPI_Alltoall(scounts, 1, MPI_INT, rcounts, 1, MPI_INT, counts_comm);
      total = 0;
      for (int q = 0; q < nranks; q++) {
        rdispls[q] = total;
        total += rcounts[q];
      }
    }
    MPI_Alltoallv(sendbuf, scounts, sdispls, MPI_BYTE, recvbuf, rcounts, rdispls, MPI_BYTE,
                  data_comm);
    double t1 = MPI_Wtime();
    if (i >= 0) times[i] = (t1 - t0) * 1e6;
  }
  double p50 = iters > 0 ? median(times, iters) : 0;
  MPI_Comm_free(&counts_comm);
  MPI_Comm_free(&data_comm);
  free(sendbuf), free(recvbuf), free(scounts), free(sdispls), free(rcounts);
  free(rdispls), free(times);
  return p50;
}

static void wait_by_testing(MPI_Request *request) {
  int flag = 0;
  while (!flag) MPI_Test(request, &flag, MPI_STATUS_IGNORE);
}

static double run_pingpong(long size, int iters, int warmup, int rank) {
  char *buf = malloc(size + 1);
  double *times = malloc(sizeof(double) * (iters > 0 ? iters : 1));
  memset(buf, rank, size);
  int peer = 1 - rank;
  MPI_Comm comm, control;
  MPI_Comm_dup(MPI_COMM_WORLD, &comm);
  MPI_Comm_dup(MPI_COMM_WORLD, &control);
  for (int i = -warmup; i < iters; i++) {
    double t0 = MPI_Wtime();
    for (int leg = 0; leg < 2; leg++) {
      MPI_Request request;
      if ((leg == 0) == (rank == 0)) {
        MPI_Isend(buf, (int)size, MPI_BYTE, peer, (i & 0xffff) % 32768, comm, &request);
        wait_by_testing(&request);
      } else {
        int flag = 0, count;
        MPI_Message message;
        MPI_Status status;
        while (!flag) MPI_Improbe(MPI_ANY_SOURCE, MPI_ANY_TAG, comm, &flag, &message, &status);
        MPI_Get_count(&status, MPI_BYTE, &count);
        MPI_Imrecv(buf, count, MPI_BYTE, &message, &request);
        wait_by_testing(&request);
      }
    }
    double t1 = MPI_Wtime();
    if (i >= 0) times[i] = (t1 - t0) * 1e6 / 2;
  }
  double p50 = iters > 0 ? median(times, iters) : 0;
  MPI_Comm_free(&comm);
  MPI_Comm_free(&control);
  free(buf), free(times);
  return p50;
}

int main(int argc, char **argv) {
  int provided;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
  int rank, nranks;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &nranks);
  const char *mode = argc > 1 ? argv[1] : "";
  int pingpong = strcmp(mode, "pingpong") == 0, known = strcmp(mode, "alltoallv-known") == 0;
  if (argc < 6 || !(pingpong || known || strcmp(mode, "alltoallv") == 0)) {
    if (rank == 0) {
      fprintf(stderr, "usage: %s alltoallv|alltoallv-known|pingpong ITERS WARMUP PREWARM SIZE...\n",
              argv[0]);
    }
    MPI_Finalize();
    return 2;
  }
  int iters = atoi(argv[2]), warmup = atoi(argv[3]), prewarm = atoi(argv[4]);
  if (prewarm > 0) {
    if (!pingpong) run_alltoallv(8, 1, prewarm, known, rank, nranks);
    else if (rank < 2) run_pingpong(8, 1, prewarm, rank);
  }
  for (int a = 5; a < argc; a++) {
    long size = atol(argv[a]);
    double p50 = 0, worst = 0;
    if (!pingpong) p50 = run_alltoallv(size, iters, warmup, known, rank, nranks);
    else if (rank < 2) p50 = run_pingpong(size, iters, warmup, rank);
    MPI_Reduce(&p50, &worst, 1, MPI_DOUBLE, MPI_MAX, 0, MPI_COMM_WORLD);
    if (rank == 0) printf("%s %ld %.2f\n", mode, size, worst);
    fflush(stdout);
  }
  MPI_Finalize();
  return 0;
}
