import assert from "node:assert/strict";
import { runCli } from "./_helpers/cli.ts";

const cli = (...args: string[]) => runCli(args);

const BAD: Array<[string, string[], RegExp]> = [
  ["an unknown transport", ["--transport", "carrier-pigeon"], /--transport/],
  ["a negative lag", ["--lag", "-1"], /--lag/],
  ["a non-numeric lag", ["--lag", "two"], /--lag/],
  ["fewer than 1 rank", ["--ranks", "0"], /--ranks/],
  ["MIN above MAX in --sizes", ["--sizes", "1024:8"], /--sizes.*MIN 1024 is above MAX 8/],
  ["a malformed delay spec", ["--delay", "exp:fast"], /--delay/],
  ["a malformed imbalance spec", ["--imbalance", "hot:x"], /--imbalance/],
  [
    "a delay straggler outside the ranks",
    ["--ranks", "2", "--delay", "straggler:1ms@5"],
    /--delay.*rank 5/,
  ],
  [
    "a rank index out of range",
    ["--launcher", "none", "--rank", "4", "--world-size", "2"],
    /Rank 4 is out of range/,
  ],
  ["an unknown format", ["--format", "xml"], /--format/],
  ["an unknown socket I/O", ["--socket-io", "fast"], /--socket-io/],
  [
    "native socket I/O over Unix sockets",
    ["--transport", "unix", "--socket-io", "native"],
    /'--socket-io native' needs '--transport tcp'/,
  ],
  [
    "a lag beyond the MPI transport's tag space",
    ["--transport", "mpi", "--lag", "0,40000"],
    /--lag.*at most 32766 with '--transport mpi'/,
  ],
];

for (const [what, args, message] of BAD) {
  Deno.test(`bench: ${what} exits 2 with one error line`, async () => {
    const r = await cli("bench", "--workload", "alltoallv", ...args);
    assert.equal(r.code, 2, r.stderr);
    const lines = r.stderr.trim().split("\n").filter((l) =>
      !/Blocking waiting|Download|Warning/.test(l)
    );
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0], /^error: /);
    assert.match(lines[0], message);
  });
}

Deno.test("a missing results directory for report exits 2 naming it", async () => {
  const r = await cli("report", "/nonexistent/blsbench-results");
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /^error: .*\/nonexistent\/blsbench-results/m);
});

Deno.test("--help exits 0 and lists the commands", async () => {
  const r = await cli("--help");
  assert.equal(r.code, 0);
  for (const c of ["bench", "figures", "report", "predict", "data", "simulate"]) {
    assert.match(r.stdout, new RegExp(c));
  }
});

const HELP: Array<[string[], RegExp[]]> = [
  [["bench"], [/--lag <list>.*\n?.*default: 0,1,2,4/, /--format <list>[\s\S]*default: csv\)/]],
  [["figures"], [/--out <dir>[\s\S]*default: results\/figures/]],
  [["report"], [/--out <file>[\s\S]*default:/]],
  [["predict"], [/--weights <file\.npz>[\s\S]*\(required\)/, /--ranks <n>.*default: 1/]],
  [["data", "generate"], [/--kind <kind>[\s\S]*required/, /--seed <s>.*default: 1/]],
  [["data", "convert"], [/--input <file>[\s\S]*required/]],
  [["data", "inspect"], [/--common <file>/]],
  [["simulate"], [/--comm-us <c>[\s\S]*default: 100/]],
];

for (const [command, expected] of HELP) {
  Deno.test(`${command.join(" ")} --help shows defaults, required options and examples`, async () => {
    const r = await cli(...command, "--help");
    assert.equal(r.code, 0, r.stderr);
    for (const pattern of expected) assert.match(r.stdout, pattern);
    const examples = r.stdout.split("\nExamples:\n")[1] ?? "";
    const lines = examples.split("\n").filter((l) => l.startsWith("  $ deno task "));
    assert.ok(lines.length >= 2, `two or more examples:\n${r.stdout}`);
    // Lists are shown as typed, never as JSON.
    assert.doesNotMatch(r.stdout, /default: \[|"/);
    for (const line of r.stdout.split("\n")) assert.ok(line.length <= 100, line);
  });
}
