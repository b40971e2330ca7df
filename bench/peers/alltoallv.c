/*
 * The MPI_Alltoallv loop of blsbench's native collective, in C: the reference
 * for the cost of calling MPI through Deno FFI (bench/peers/compare.ts).
 *
 * Each iteration does what collectives/mpi_native.ts does at lag 0: an
 * MPI_Alltoall of the block sizes, then MPI_Alltoallv of `size` bytes to every
 * other rank (nothing to itself through MPI: the local block stays where it
 * is). The blocks are sent from one buffer and received into one buffer reused
 * across iterations. Each rank times every iteration with MPI_Wtime (osu style: a
 * barrier before the timed loop, none inside it); rank 0 prints, per size, the
 * largest of the ranks' median iteration latencies in microseconds.
 *
 * Also `pingpong` mode: half the round trip of MPI_Isend/MPI_Improbe/MPI_Mrecv
 * between ranks 0 and 1, the calls the FFI transport makes.
 *
 * Before the first size, PREWARM untimed iterations of 8 bytes: the Deno side
 * needs them (V8 compiles the loop with fast FFI calls after thousands of
 * calls), and both sides get the same.
 *
 * Usage: alltoallv [alltoallv|pingpong] ITERS WARMUP PREWARM SIZE...
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

static double run_alltoallv(long size, int iters, int warmup, int rank, int nranks) {
  char *sendbuf = malloc(size * nranks + 1), *recvbuf = malloc(size * nranks + 1);
  int *scounts = calloc(nranks, sizeof(int)), *sdispls = calloc(nranks, sizeof(int));
  int *rcounts = calloc(nranks, sizeof(int)), *rdispls = calloc(nranks, sizeof(int));
  double *times = malloc(sizeof(double) * iters);
  memset(sendbuf, rank, size * nranks);
  for (int q = 0; q < nranks; q++) {
    scounts[q] = q == rank ? 0 : (int)size;
    sdispls[q] = (int)(q * size);
  }
  MPI_Barrier(MPI_COMM_WORLD);
  for (int i = -warmup; i < iters; i++) {
    double t0 = MPI_Wtime();
    MPI_Alltoall(scounts, 1, MPI_INT, rcounts, 1, MPI_INT, MPI_COMM_WORLD);
    int total = 0;
    for (int q = 0; q < nranks; q++) {
      rdispls[q] = total;
      total += rcounts[q];
    }
    MPI_Alltoallv(sendbuf, scounts, sdispls, MPI_BYTE, recvbuf, rcounts, rdispls, MPI_BYTE,
                  MPI_COMM_WORLD);
    double t1 = MPI_Wtime();
    if (i >= 0) times[i] = (t1 - t0) * 1e6;
  }
  double p50 = median(times, iters);
  free(sendbuf), free(recvbuf), free(scounts), free(sdispls), free(rcounts);
  free(rdispls), free(times);
  return p50;
}

static double run_pingpong(long size, int iters, int warmup, int rank) {
  char *buf = malloc(size + 1);
  double *times = malloc(sizeof(double) * iters);
  memset(buf, rank, size);
  int peer = 1 - rank;
  MPI_Barrier(MPI_COMM_WORLD);
  for (int i = -warmup; i < iters; i++) {
    double t0 = MPI_Wtime();
    for (int leg = 0; leg < 2; leg++) {
      if ((leg == 0) == (rank == 0)) {
        MPI_Request request;
        MPI_Isend(buf, (int)size, MPI_BYTE, peer, i & 0xffff, MPI_COMM_WORLD, &request);
        MPI_Wait(&request, MPI_STATUS_IGNORE);
      } else {
        int flag = 0, count;
        MPI_Message message;
        MPI_Status status;
        while (!flag) MPI_Improbe(peer, i & 0xffff, MPI_COMM_WORLD, &flag, &message, &status);
        MPI_Get_count(&status, MPI_BYTE, &count);
        MPI_Mrecv(buf, count, MPI_BYTE, &message, MPI_STATUS_IGNORE);
      }
    }
    double t1 = MPI_Wtime();
    if (i >= 0) times[i] = (t1 - t0) * 1e6 / 2;
  }
  double p50 = median(times, iters);
  free(buf), free(times);
  return p50;
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int rank, nranks;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &nranks);
  if (argc < 6) {
    if (rank == 0) {
      fprintf(stderr, "usage: %s alltoallv|pingpong ITERS WARMUP PREWARM SIZE...\n", argv[0]);
    }
    MPI_Finalize();
    return 2;
  }
  const char *mode = argv[1];
  int pingpong = strcmp(mode, "pingpong") == 0;
  int iters = atoi(argv[2]), warmup = atoi(argv[3]), prewarm = atoi(argv[4]);
  if (prewarm > 0) {
    if (!pingpong) run_alltoallv(8, 1, prewarm, rank, nranks);
    else if (rank < 2) run_pingpong(8, 1, prewarm, rank);
  }
  for (int a = 5; a < argc; a++) {
    long size = atol(argv[a]);
    double p50 = 0, worst = 0;
    if (!pingpong) p50 = run_alltoallv(size, iters, warmup, rank, nranks);
    else if (rank < 2) p50 = run_pingpong(size, iters, warmup, rank);
    MPI_Reduce(&p50, &worst, 1, MPI_DOUBLE, MPI_MAX, 0, MPI_COMM_WORLD);
    if (rank == 0) printf("%s %ld %.2f\n", mode, size, worst);
    fflush(stdout);
  }
  MPI_Finalize();
  return 0;
}
