/**
 * MPI end to end, for OpenMPI and MPICH: the transport's tag and communicator
 * layout under a real launcher, and `bench --transport mpi` as users run it
 * (many short validated configurations, lags 0, 1 and 3, 8 B to 64 KiB, both
 * progress modes, `--collective native` on both of its paths, `--launcher
 * mpirun`, a user's own launcher, a rank that fails). Every run starts real
 * ranks and reads the results they wrote.
 */

import assert from "node:assert/strict";
import { ignoreUnless, needs } from "./_helpers/require.ts";
import {
  mpiAvailable,
  type MpiFamily,
  mpiLaunchCommand,
  mpiPackages,
} from "../transports/mpi/mod.ts";

const CLI = new URL("../cli.ts", import.meta.url).pathname;
const LAYOUT_RANK = new URL("./ranks/mpi_layout_rank.ts", import.meta.url).pathname;
const FAMILIES: MpiFamily[] = ["openmpi", "mpich"];

// Launcher variables of an enclosing MPI job would confuse the ranks we start.
const CLEAN_ENV = Object.fromEntries(
  Object.entries(Deno.env.toObject()).filter(([name]) =>
    !/^(OMPI_|PMI_|PMIX_|HYDRA_|MPIR_|BLSBENCH_)/.test(name)
  ),
);

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

async function run(cmd: string, args: string[], env: Record<string, string> = {}) {
  const output = await new Deno.Command(cmd, {
    args,
    env: { ...CLEAN_ENV, NO_COLOR: "1", ...env },
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(120_000),
  }).output();
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return { code: output.code, stdout: decode(output.stdout), stderr: decode(output.stderr) };
}

function bench(args: string[], env: Record<string, string> = {}): Promise<Outcome> {
  return run(Deno.execPath(), ["run", "-A", CLI, "bench", ...args], env);
}

/** The flags of a short alltoallv sweep over MPI, results into `out`. */
function sweep(family: MpiFamily, out: string, extra: string[]): string[] {
  return [
    "--workload",
    "alltoallv",
    "--transport",
    "mpi",
    "--mpi",
    family,
    "--warmup",
    "1",
    "--iters",
    "4",
    "--timeout",
    "20",
    "--validate",
    "--out",
    out,
    ...extra,
  ];
}

type Row = Record<string, string>;

/** summary.csv's rows (no field of these runs holds a comma or a quote). */
async function summary(out: string): Promise<Row[]> {
  const [header, ...lines] = (await Deno.readTextFile(`${out}/summary.csv`)).trim().split("\n");
  const names = header.split(",");
  return lines.map((line) => {
    const cells = line.split(",");
    assert.equal(cells.length, names.length, `summary line '${line}'`);
    return Object.fromEntries(names.map((name, i) => [name, cells[i]]));
  });
}

function assertOk(outcome: Outcome): void {
  assert.equal(outcome.code, 0, `bench failed:\n${outcome.stdout}\n${outcome.stderr}`);
}

/** Every configuration of lags x sizes ran once, validated, on the given path. */
function assertSweep(
  family: MpiFamily,
  rows: Row[],
  lags: number[],
  sizes: number[],
  path: string,
): void {
  assert.equal(rows.length, lags.length * sizes.length, "one row per configuration");
  for (const lag of lags) {
    for (const size of sizes) {
      const row = rows.find((r) => Number(r.lag) === lag && Number(r.size_bytes) === size);
      assert.ok(row, `no row for lag ${lag}, ${size} B`);
      assert.equal(String(row.validated), "true", `lag ${lag}, ${size} B not validated`);
      assert.equal(row.collective, path);
      assert.equal(row.transport, `mpi-${family}`);
      assert.ok(Number(row.iters_per_s) > 0);
    }
  }
}

const SIZES_8_TO_64K = Array.from({ length: 14 }, (_, i) => 8 * 2 ** i);

for (const family of FAMILIES) {
  const present = mpiAvailable(family);
  const ignore = ignoreUnless(mpiPackages(family), present);
  const check = () => needs(mpiPackages(family), present);

  Deno.test({
    ignore,
    name: `mpi ${family}: control and collective tags never mix; leftover receives are cancelled`,
    async fn() {
      check();
      const argv = [Deno.execPath(), "run", "-A", LAYOUT_RANK];
      const { cmd, args } = mpiLaunchCommand(family, 3, argv, { BLSBENCH_MPI_LIB: family });
      const outcome = await run(cmd, args);
      assert.equal(outcome.code, 0, `${outcome.stdout}\n${outcome.stderr}`);
      for (let r = 0; r < 3; r++) {
        assert.match(outcome.stdout, new RegExp(`ok layout rank ${r} of 3 ${family}`));
      }
    },
  });

  Deno.test({
    ignore,
    name: `mpi ${family}: the progress engine's transport cancels a drained BLS look-ahead`,
    async fn() {
      check();
      const argv = [Deno.execPath(), "run", "-A", LAYOUT_RANK, "engine"];
      const { cmd, args } = mpiLaunchCommand(family, 2, argv, { BLSBENCH_MPI_LIB: family });
      const outcome = await run(cmd, args);
      assert.equal(outcome.code, 0, `${outcome.stdout}\n${outcome.stderr}`);
      for (let r = 0; r < 2; r++) {
        assert.match(outcome.stdout, new RegExp(`ok layout-engine rank ${r} of 2`));
      }
    },
  });

  Deno.test({
    ignore,
    name: `mpi ${family}: bench p2p, 42 validated configurations (lags 0,1,3; 8 B-64 KiB)`,
    async fn() {
      check();
      const out = await Deno.makeTempDir();
      try {
        const outcome = await bench(
          sweep(family, out, ["--ranks", "2", "--lag", "0,1,3", "--sizes", "8:65536"]),
        );
        assertOk(outcome);
        assertSweep(family, await summary(out), [0, 1, 3], SIZES_8_TO_64K, "p2p");
      } finally {
        await Deno.remove(out, { recursive: true });
      }
    },
  });

  Deno.test({
    ignore,
    name: `mpi ${family}: bench p2p inline progress, 3 ranks, uneven blocks`,
    async fn() {
      check();
      const out = await Deno.makeTempDir();
      try {
        const outcome = await bench(sweep(family, out, [
          "--ranks",
          "3",
          "--lag",
          "0,1,3",
          "--sizes",
          "8:4096",
          "--imbalance",
          "random:0.5",
          "--progress",
          "inline",
        ]));
        assertOk(outcome);
        assertSweep(
          family,
          await summary(out),
          [0, 1, 3],
          [8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096],
          "p2p",
        );
      } finally {
        await Deno.remove(out, { recursive: true });
      }
    },
  });

  Deno.test({
    ignore,
    name: `mpi ${family}: bench --collective native, known counts and exchanged counts`,
    async fn() {
      check();
      const out = await Deno.makeTempDir();
      try {
        const balanced = await bench(sweep(family, out, [
          "--ranks",
          "2",
          "--collective",
          "native",
          "--lag",
          "0,1,3",
          "--sizes",
          "8:65536",
        ]));
        assertOk(balanced);
        assertSweep(family, await summary(out), [0, 1, 3], SIZES_8_TO_64K, "native-known-counts");
        const uneven = await bench(sweep(family, out, [
          "--ranks",
          "3",
          "--collective",
          "native",
          "--lag",
          "0,3",
          "--sizes",
          "8:1024",
          "--imbalance",
          "hot:1:4",
        ]));
        assertOk(uneven);
        assertSweep(
          family,
          await summary(out),
          [0, 3],
          [8, 16, 32, 64, 128, 256, 512, 1024],
          "native",
        );
      } finally {
        await Deno.remove(out, { recursive: true });
      }
    },
  });

  Deno.test({
    ignore,
    name: `mpi ${family}: bench --launcher mpirun, and ranks started by the user's own launcher`,
    async fn() {
      check();
      const out = await Deno.makeTempDir();
      try {
        const flags = sweep(family, out, ["--ranks", "2", "--lag", "0,1", "--sizes", "8:64"]);
        assertOk(await bench([...flags, "--launcher", "mpirun"]));
        assertSweep(family, await summary(out), [0, 1], [8, 16, 32, 64], "p2p");
        await Deno.remove(`${out}/summary.csv`);
        // Under the user's own launcher each process finds its rank in the
        // launcher's variables and acts as one rank.
        const argv = [Deno.execPath(), "run", "-A", CLI, "bench", ...flags];
        const { cmd, args } = mpiLaunchCommand(family, 2, argv, {
          BLSBENCH_TOKEN: crypto.randomUUID(),
        });
        const own = await run(cmd, args);
        assert.equal(own.code, 0, `${own.stdout}\n${own.stderr}`);
        assertSweep(family, await summary(out), [0, 1], [8, 16, 32, 64], "p2p");
      } finally {
        await Deno.remove(out, { recursive: true });
      }
    },
  });

  Deno.test({
    ignore,
    name: `mpi ${family}: a rank that fails ends the run with exit 1, naming it`,
    async fn() {
      check();
      const out = await Deno.makeTempDir();
      try {
        const outcome = await bench(
          sweep(family, out, ["--ranks", "2", "--lag", "0,1", "--sizes", "8:16"]),
          { BLSBENCH_FAULT: "1:config=2,iter=1:throw" },
        );
        assert.equal(outcome.code, 1, `${outcome.stdout}\n${outcome.stderr}`);
        assert.match(outcome.stderr, /error: .*rank 1/i);
        assert.match(outcome.stderr, /configuration 2/);
      } finally {
        await Deno.remove(out, { recursive: true });
      }
    },
  });
}
