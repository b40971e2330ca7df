#!/bin/sh
# Builds the C comparison program bench/peers/alltoallv.c with one MPI family's
# compiler wrapper (the suffixed names: plain mpicc is OpenMPI's when both are
# installed). Usage: bench/peers/build.sh [openmpi|mpich] [OUTPUT]
# Prints the path of the binary.
set -eu
family="${1:-openmpi}"
case "$family" in
  openmpi) cc=mpicc.openmpi ;;
  mpich) cc=mpicc.mpich ;;
  *) echo "error: unknown MPI family '$family' (openmpi or mpich)" >&2; exit 2 ;;
esac
here="$(cd "$(dirname "$0")" && pwd)"
out="${2:-${TMPDIR:-/tmp}/blsbench-peers/alltoallv-$family}"
if ! command -v "$cc" >/dev/null 2>&1; then
  echo "error: $cc not found: install the $family development package (libopenmpi-dev or libmpich-dev)" >&2
  exit 1
fi
mkdir -p "$(dirname "$out")"
"$cc" -O2 -Wall -o "$out" "$here/alltoallv.c"
echo "$out"
