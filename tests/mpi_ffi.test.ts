/**
 * MPI through FFI, under the real launchers of both families: the transport,
 * the native alltoallv and the suite's sync/BLS collectives over the transport
 * on uneven blocks (2 and 3 ranks, lags 0 and 3), the transport inside a Worker
 * (directly and through the progress engine), the wrong launcher's clear
 * error; plus launcher helpers and ABI selection without launching anything.
 */

import assert from "node:assert/strict";
import { ignoreUnless, needs } from "./_helpers/require.ts";
import {
  detectMpiEnvironment,
  mpiAvailable,
  type MpiFamily,
  mpiLaunchCommand,
  mpiPackages,
} from "../transports/mpi/mod.ts";
import { resolveAbi } from "../transports/mpi/_abi.ts";
import { UsageError } from "../util/errors.ts";

const SELFTEST = new URL("../transports/mpi/_selftest.ts", import.meta.url).pathname;
const NATIVE_RANK = new URL("./ranks/mpi_native_rank.ts", import.meta.url).pathname;
const FAMILIES: MpiFamily[] = ["openmpi", "mpich"];

// Launcher variables of an enclosing MPI job would confuse the ranks we start.
const CLEAN_ENV = Object.fromEntries(
  Object.entries(Deno.env.toObject()).filter(([name]) =>
    !/^(OMPI_|PMI_|PMIX_|HYDRA_|MPIR_|BLSBENCH_MPI_LIB$)/.test(name)
  ),
);

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

async function launch(
  family: MpiFamily,
  ranks: number,
  script: string,
  args: string[],
  launcher: MpiFamily = family,
): Promise<Outcome> {
  const argv = [Deno.execPath(), "run", "-A", script, ...args];
  const { cmd, args: launchArgs } = mpiLaunchCommand(launcher, ranks, argv, {
    BLSBENCH_MPI_LIB: family,
  });
  const output = await new Deno.Command(cmd, {
    args: launchArgs,
    env: CLEAN_ENV,
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return { code: output.code, stdout: decode(output.stdout), stderr: decode(output.stderr) };
}

function assertRanksOk(outcome: Outcome, pattern: (rank: number) => RegExp, ranks: number) {
  assert.equal(outcome.code, 0, `launcher failed:\n${outcome.stdout}\n${outcome.stderr}`);
  for (let rank = 0; rank < ranks; rank++) {
    assert.match(outcome.stdout, pattern(rank), `rank ${rank}:\n${outcome.stdout}`);
  }
}

for (const family of FAMILIES) {
  const present = mpiAvailable(family);
  const ignore = ignoreUnless(mpiPackages(family), present);
  const check = () => needs(mpiPackages(family), present);

  for (const ranks of [2, 3]) {
    Deno.test({
      ignore,
      name: `mpi ${family}: transport, native and p2p alltoallv (lags 0 and 3), ${ranks} ranks`,
      async fn() {
        check();
        const outcome = await launch(family, ranks, NATIVE_RANK, ["0,3", "9"]);
        assertRanksOk(
          outcome,
          (r) => new RegExp(`ok transport rank ${r} of ${ranks} ${family}`),
          ranks,
        );
        for (const label of ["native", "known-counts", "p2p"]) {
          for (const lag of [0, 3]) {
            assertRanksOk(
              outcome,
              (r) => new RegExp(`ok ${label} lag ${lag} rank ${r} of ${ranks}`),
              ranks,
            );
          }
        }
      },
    });
  }

  Deno.test({
    ignore,
    name: `mpi ${family}: transport inside a Worker, 2 ranks`,
    async fn() {
      check();
      const outcome = await launch(family, 2, SELFTEST, ["worker", "4"]);
      assertRanksOk(
        outcome,
        (r) => new RegExp(`ok worker rank ${r} of 2 ${family} \\(in a Worker\\)`),
        2,
      );
    },
  });

  Deno.test({
    ignore,
    name: `mpi ${family}: the progress engine runs the MPI transport in its Worker, 2 ranks`,
    async fn() {
      check();
      const outcome = await launch(family, 2, NATIVE_RANK, ["engine", "0,3", "9"]);
      for (const lag of [0, 3]) {
        assertRanksOk(outcome, (r) => new RegExp(`ok engine lag ${lag} rank ${r} of 2`), 2);
      }
    },
  });

  const other: MpiFamily = family === "openmpi" ? "mpich" : "openmpi";
  Deno.test({
    ignore: ignore || ignoreUnless(mpiPackages(other), mpiAvailable(other)),
    name: `mpi ${family}: started by ${other}'s launcher fails with a clear error`,
    async fn() {
      check();
      needs(mpiPackages(other), mpiAvailable(other));
      const outcome = await launch(family, 2, SELFTEST, ["init"], other);
      assert.notEqual(outcome.code, 0);
      assert.doesNotMatch(outcome.stdout, /ok init/);
      assert.match(
        outcome.stderr,
        new RegExp(`error: MPI library ${family} .* was started by the ${other} launcher`),
      );
    },
  });
}

Deno.test("mpiLaunchCommand builds each family's command line", () => {
  const openmpi = mpiLaunchCommand("openmpi", 3, ["deno", "run", "x.ts"], { A: "1" });
  assert.deepEqual(openmpi, {
    cmd: "mpirun.openmpi",
    args: [
      "--allow-run-as-root",
      "--oversubscribe",
      "--mca",
      "btl_tcp_if_include",
      "lo",
      "-x",
      "A=1",
      "-np",
      "3",
      "deno",
      "run",
      "x.ts",
    ],
  });
  const mpich = mpiLaunchCommand("mpich", 2, ["prog"], { A: "x y" });
  assert.deepEqual(mpich, {
    cmd: "mpiexec.mpich",
    args: ["-genv", "A", "x y", "-np", "2", "prog"],
  });
  assert.throws(() => mpiLaunchCommand("mpich", 0, ["prog"]), RangeError);
  assert.throws(() => mpiLaunchCommand("mpich", 2, []), RangeError);
  assert.throws(() => mpiLaunchCommand("mpich", 2, ["p"], { "A=B": "1" }), RangeError);
});

Deno.test("detectMpiEnvironment and ABI selection follow the launcher's variables", () => {
  const saved = Deno.env.toObject();
  const names = ["OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_RANK", "PMI_SIZE", "PMI_RANK"];
  const restore = () => {
    for (const name of [...names, "BLSBENCH_MPI_LIB"]) {
      if (saved[name] === undefined) Deno.env.delete(name);
      else Deno.env.set(name, saved[name]);
    }
  };
  try {
    for (const name of [...names, "BLSBENCH_MPI_LIB"]) Deno.env.delete(name);
    assert.equal(detectMpiEnvironment(), undefined);
    assert.equal(resolveAbi().family, "openmpi");
    Deno.env.set("PMI_SIZE", "4");
    Deno.env.set("PMI_RANK", "2");
    assert.deepEqual(detectMpiEnvironment(), { family: "mpich", rank: 2, size: 4 });
    assert.equal(resolveAbi().family, "mpich");
    assert.equal(resolveAbi("openmpi").family, "openmpi");
    Deno.env.set("BLSBENCH_MPI_LIB", "/opt/lib/libmpi.so.40");
    const fromPath = resolveAbi();
    assert.equal(fromPath.family, "openmpi");
    assert.equal(fromPath.libraryPath, "/opt/lib/libmpi.so.40");
    Deno.env.delete("BLSBENCH_MPI_LIB");
    Deno.env.set("PMI_RANK", "7");
    assert.equal(detectMpiEnvironment(), undefined, "rank outside the world");
    for (const name of names) Deno.env.delete(name);
    Deno.env.set("OMPI_COMM_WORLD_SIZE", "2");
    Deno.env.set("OMPI_COMM_WORLD_RANK", "1");
    assert.deepEqual(detectMpiEnvironment(), { family: "openmpi", rank: 1, size: 2 });
    assert.throws(() => resolveAbi("lam"), UsageError);
  } finally {
    restore();
  }
});
