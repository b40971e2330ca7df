import assert from "node:assert/strict";
import fc from "fast-check";
import { readCriteo, streamCriteo } from "../datasets/criteo.ts";
import { MalformedLineError } from "../datasets/malformed.ts";
import { inspectFile } from "../datasets/inspect.ts";
import { generateMiniKaggle } from "../datasets/generate.ts";
import { LineReader } from "../datasets/_lines.ts";
import { UsageError } from "../util/errors.ts";

/** A Criteo line: label, 13 integer fields, 26 categorical fields (missing ones empty). */
function line(label: string, ints: string[] = [], cats: string[] = []): string {
  const i = Array.from({ length: 13 }, (_, k) => ints[k] ?? "");
  const c = Array.from({ length: 26 }, (_, k) => cats[k] ?? "");
  return [label, ...i, ...c].join("\t");
}

async function withFile<T>(text: string, body: (path: string) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/data.txt`;
    await Deno.writeTextFile(path, text);
    return await body(path);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function collect() {
  const seen: { line: number; reason: string }[] = [];
  return {
    seen,
    onMalformed: (_f: string, line: number, reason: string) => seen.push({ line, reason }),
  };
}

Deno.test("criteo: empty fields are 0, negative integers are 0, dense is log(x+1)", async () => {
  const text = [
    line("1", ["", "-3", "0", "7", "2147483647"]),
    line("", ["1"]),
  ].join("\n") + "\n";
  const data = await withFile(text, (p) => readCriteo(p));
  assert.equal(data.rows, 2);
  assert.deepEqual([...data.labels], [1, 0]); // an empty label is 0, as every empty field
  const row0 = [...data.dense.subarray(0, 13)];
  assert.equal(row0[0], 0); // empty
  assert.equal(row0[1], 0); // -3 -> 0
  assert.equal(row0[2], 0); // log(1)
  assert.equal(row0[3], Math.fround(Math.log(8)));
  assert.equal(row0[4], Math.fround(Math.log(2147483648)));
  assert.equal(data.dense[13], Math.fround(Math.log(2)));
  assert.deepEqual(data.denseNames, Array.from({ length: 13 }, (_, i) => `I${i + 1}`));
  assert.equal(data.skipped, 0);
});

Deno.test("criteo: each column has its own dictionary in first-appearance order over the file", async () => {
  const text = [
    line("0", [], ["aa", "bb"]),
    line("0", [], ["cc", "aa"]),
    line("1", [], ["aa", "cc"]),
    line("0", [], ["dd", "bb"]),
  ].join("\n");
  const data = await withFile(text, (p) => readCriteo(p));
  assert.deepEqual([...data.sparse[0].indices], [0, 1, 0, 2]);
  assert.deepEqual([...data.sparse[1].indices], [0, 1, 2, 0]);
  // Columns 3..26 are all empty: one value (0) each.
  assert.deepEqual([...data.sparse[2].indices], [0, 0, 0, 0]);
  assert.deepEqual(data.tableSizes.slice(0, 3), [3, 3, 1]);
  assert.deepEqual([...data.sparse[0].offsets], [0, 1, 2, 3, 4]);
  assert.equal(data.sparse[25].name, "C26");
});

Deno.test("criteo: empty and 00000000 are the same value 0; inspect counts only the literal as an id", async () => {
  const text = [
    line("0", [], ["", "00000000", ""]),
    line("0", [], ["00000000", "", "5"]),
    line("0", [], ["0", "1", ""]),
  ].join("\n");
  await withFile(text, async (p) => {
    const data = await readCriteo(p);
    assert.deepEqual([...data.sparse[0].indices], [0, 0, 0]);
    assert.deepEqual([...data.sparse[1].indices], [0, 0, 1]);
    assert.deepEqual([...data.sparse[2].indices], [0, 1, 0]);
    const report = await inspectFile(p);
    // C1: the literal 0 appears, so it is one distinct id; one row misses it.
    assert.deepEqual(report.sparse[0], {
      name: "C1",
      distinct: 1,
      maxId: 0,
      missing: 1,
      meanPerRow: 2 / 3,
      maxPerRow: 1,
    });
    assert.equal(report.sparse[1].distinct, 2);
    // C3: 0 only comes from empty fields, so the only id is 5.
    assert.equal(report.sparse[2].distinct, 1);
    assert.equal(report.sparse[2].missing, 2);
    assert.equal(report.sparse[2].maxId, 5);
    // C4: always empty.
    assert.deepEqual(report.sparse[3], {
      name: "C4",
      distinct: 0,
      maxId: null,
      missing: 3,
      meanPerRow: 0,
      maxPerRow: 0,
    });
  });
});

Deno.test("criteo: values above 0x7fffffff are distinct unsigned values; hex case does not matter", async () => {
  const text = [
    line("0", [], ["80000000"]),
    line("0", [], ["ffffffff"]),
    line("0", [], ["7fffffff"]),
    line("0", [], ["FFFFFFFF"]),
    line("0", [], ["80000000"]),
  ].join("\n");
  await withFile(text, async (p) => {
    const data = await readCriteo(p);
    assert.deepEqual([...data.sparse[0].indices], [0, 1, 2, 1, 0]);
    // mod N uses the unsigned value: 0xffffffff % 1000 = 295, 0x80000000 % 1000 = 648.
    const modded = await readCriteo(p, { maxIndRange: 1000 });
    assert.deepEqual([...modded.sparse[0].indices], [648, 295, 647, 295, 648]);
    assert.deepEqual(modded.tableSizes, Array(26).fill(1000));
  });
});

Deno.test("criteo: malformed lines are skipped, counted and reported with their line numbers", async () => {
  const good = line("1", ["5"], ["abc"]);
  const lines = [
    good, // 1
    good.split("\t").slice(0, 39).join("\t"), // 2: 39 fields
    good + "\tdeadbeef", // 3: 41 fields
    line("2", ["5"], ["abc"]), // 4: label
    line("1", ["1.5"]), // 5: dense not an integer
    line("1", ["-"]), // 6: a lone minus
    line("1", ["99999999999"]), // 7: dense out of range
    line("1", [], ["xyz"]), // 8: not hex
    line("1", [], ["100000000"]), // 9: above 32 bits
    "", // 10: empty line
    line("10", []), // 11: label "10"
    good, // 12
  ];
  const { seen, onMalformed } = collect();
  const data = await withFile(lines.join("\n") + "\n", (p) => readCriteo(p, { onMalformed }));
  assert.equal(data.rows, 2);
  assert.equal(data.skipped, 10);
  assert.deepEqual(seen.map((s) => s.line), [2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  assert.match(seen[0].reason, /expected 40 tab-separated fields, got 39/);
  assert.match(seen[1].reason, /got 41/);
  assert.match(seen[2].reason, /label is not 0 or 1/);
  assert.match(seen[3].reason, /I1 is not an integer/);
  assert.match(seen[4].reason, /I1 is not an integer/);
  assert.match(seen[5].reason, /I1 is out of the 32-bit integer range/);
  assert.match(seen[6].reason, /C1 is not a hexadecimal value/);
  assert.match(seen[7].reason, /C1 is out of the 32-bit range/);
  assert.match(seen[8].reason, /empty line/);
  assert.match(seen[9].reason, /label/);
});

Deno.test("criteo: a malformed line never enters the dictionaries", async () => {
  const text = [
    line("0", ["x"], ["111"]), // malformed (dense), its C1 value must not get index 0
    line("0", [], ["222"]),
    line("0", [], ["111"]),
  ].join("\n");
  const data = await withFile(text, (p) => readCriteo(p, { onMalformed: () => {} }));
  assert.deepEqual([...data.sparse[0].indices], [0, 1]);
  assert.equal(data.tableSizes[0], 2);
});

Deno.test("criteo: strict mode fails on the first malformed line naming FILE:LINE", async () => {
  const text = [line("0"), line("0"), line("7"), line("9")].join("\n");
  await withFile(text, async (p) => {
    const error = await readCriteo(p, { strict: true }).then(() => null, (e) => e);
    assert.ok(error instanceof MalformedLineError);
    assert.ok(error instanceof SyntaxError);
    assert.equal(error.message, `${p}:3: label is not 0 or 1`);
    assert.equal(error.line, 3);
  });
});

Deno.test("criteo: CRLF endings and a last line without newline", async () => {
  const text = [line("1", ["3"], ["a"]), line("0", ["4"], ["b"])].join("\r\n");
  const data = await withFile(text, (p) => readCriteo(p));
  assert.equal(data.rows, 2);
  assert.deepEqual([...data.sparse[0].indices], [0, 1]);
  assert.equal(data.dense[13], Math.fround(Math.log(5)));
});

Deno.test("criteo: empty, missing and unreadable files are usage errors", async () => {
  await withFile("", async (p) => {
    await assert.rejects(
      () => readCriteo(p),
      (e) => e instanceof UsageError && /empty/.test(e.message),
    );
  });
  await assert.rejects(() => readCriteo("/nonexistent/file.txt"), UsageError);
  const dir = await Deno.makeTempDir();
  try {
    await assert.rejects(
      () => readCriteo(dir),
      (e) => e instanceof UsageError && /not a file/.test(e.message),
    );
  } finally {
    await Deno.remove(dir);
  }
  await withFile("garbage\n", async (p) => {
    await assert.rejects(
      () => readCriteo(p, { onMalformed: () => {} }),
      (e) => e instanceof UsageError && /no valid line \(1 malformed/.test(e.message),
    );
  });
});

/** DLRM's preprocessing written the plain way, to check the scanner against. */
function reference(rows: { label: number; ints: (number | null)[]; cats: (number | null)[] }[]) {
  const dicts = Array.from({ length: 26 }, () => new Map<number, number>());
  return {
    dense: rows.flatMap((r) => r.ints.map((x) => Math.fround(Math.log(Math.max(x ?? 0, 0) + 1)))),
    indices: Array.from({ length: 26 }, (_, j) =>
      rows.map((r) => {
        const v = r.cats[j] ?? 0;
        if (!dicts[j].has(v)) dicts[j].set(v, dicts[j].size);
        return dicts[j].get(v)!;
      })),
    sizes: () => dicts.map((d) => d.size),
  };
}

const rowArbitrary = fc.record({
  label: fc.constantFrom(0, 1),
  ints: fc.array(fc.option(fc.integer({ min: -5, max: 2147483647 }), { nil: null }), {
    minLength: 13,
    maxLength: 13,
  }),
  cats: fc.array(
    fc.option(fc.constantFrom(0, 1, 2, 0x7fffffff, 0x80000000, 0xffffffff, 12345), { nil: null }),
    {
      minLength: 26,
      maxLength: 26,
    },
  ),
});

Deno.test("criteo: the scanner matches a plain reference of DLRM's rules, whole and streamed (property)", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await fc.assert(
      fc.asyncProperty(
        fc.array(rowArbitrary, { minLength: 1, maxLength: 30 }),
        fc.integer({ min: 1, max: 7 }),
        async (rows, batch) => {
          const text = rows.map((r) =>
            line(
              String(r.label),
              r.ints.map((x) => (x === null ? "" : String(x))),
              r.cats.map((v) => (v === null ? "" : v.toString(16).padStart(8, "0"))),
            )
          ).join("\n");
          const path = `${dir}/p.txt`;
          await Deno.writeTextFile(path, text);
          const ref = reference(rows);
          const data = await readCriteo(path);
          assert.deepEqual([...data.labels], rows.map((r) => r.label));
          assert.deepEqual([...data.dense], ref.dense);
          ref.indices.forEach((idx, j) => assert.deepEqual([...data.sparse[j].indices], idx));
          assert.deepEqual(data.tableSizes, ref.sizes());
          // Streamed chunks give the same indices (shared dictionaries).
          const streamed: number[][] = Array.from({ length: 26 }, () => []);
          let total = 0;
          for await (const chunk of streamCriteo(path, { batchRows: batch })) {
            assert.ok(chunk.rows <= batch);
            total += chunk.rows;
            chunk.sparse.forEach((f, j) => streamed[j].push(...f.indices));
          }
          assert.equal(total, rows.length);
          ref.indices.forEach((idx, j) => assert.deepEqual(streamed[j], idx));
        },
      ),
      { numRuns: 40 },
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("criteo: a whole read that outgrows its first buffers equals the streamed chunks", async () => {
  const dir = await Deno.makeTempDir();
  try {
    // More rows than a whole read's first buffers hold: they grow twice.
    const path = `${dir}/mk.txt`;
    await generateMiniKaggle(path, 40_000, 3);
    const whole = await readCriteo(path);
    assert.equal(whole.rows, 40_000);
    let at = 0;
    for await (const chunk of streamCriteo(path, { batchRows: 10_000 })) {
      const rows = [at, at + chunk.rows];
      assert.deepEqual(chunk.labels, whole.labels.subarray(...rows));
      assert.deepEqual(chunk.dense, whole.dense.subarray(rows[0] * 13, rows[1] * 13));
      chunk.sparse.forEach((f, j) =>
        assert.deepEqual(f.indices, whole.sparse[j].indices.subarray(...rows))
      );
      at += chunk.rows;
    }
    assert.equal(at, whole.rows);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** Whether a line is valid under DLRM's format, written the plain way. */
function referenceValid(text: string): boolean {
  const f = text.split("\t");
  if (f.length !== 40) return false;
  if (!["", "0", "1"].includes(f[0])) return false;
  for (const x of f.slice(1, 14)) {
    if (x !== "" && (!/^-?\d+$/.test(x) || Number(x) > 2147483647 || Number(x) < -2147483648)) {
      return false;
    }
  }
  for (const x of f.slice(14)) {
    if (x !== "" && (!/^[0-9a-fA-F]+$/.test(x) || parseInt(x, 16) > 0xffffffff)) return false;
  }
  return true;
}

Deno.test("criteo: valid and malformed lines are told apart as a plain reference does (property)", async () => {
  const dir = await Deno.makeTempDir();
  // Mostly valid lines (hex fields of every length around 8, signed integers, empty
  // fields), some with one field replaced by a bad piece or a field added or removed.
  const denseField = fc.oneof(
    fc.constant(""),
    fc.integer({ min: -9, max: 2147483647 }).map(String),
  );
  const hexField = fc.oneof(fc.constant(""), fc.stringMatching(/^[0-9a-fA-F]{1,9}$/));
  const badField = fc.constantFrom(
    "-2147483648",
    "-2147483649",
    "-",
    "1.5",
    "x",
    "2147483648",
    "99999999999",
    "0xab",
    "abcdefgh",
    "abcdefg",
    "1ffffffff",
    "0000000001",
    " 1",
    "2",
  );
  const lineArb = fc
    .tuple(
      fc.constantFrom("0", "1", ""),
      fc.array(denseField, { minLength: 13, maxLength: 13 }),
      fc.array(hexField, { minLength: 26, maxLength: 26 }),
      fc.option(fc.tuple(fc.nat(39), fc.oneof(badField, fc.constantFrom("+field", "-field"))), {
        freq: 3,
      }),
    )
    .map(([label, ints, cats, mutation]) => {
      const fields = [label, ...ints, ...cats];
      if (mutation) {
        const [at, what] = mutation;
        if (what === "+field") fields.splice(at, 0, "1");
        else if (what === "-field") fields.splice(at, 1);
        else fields[at] = what;
      }
      return fields.join("\t");
    });
  try {
    await fc.assert(
      fc.asyncProperty(fc.array(lineArb, { minLength: 1, maxLength: 12 }), async (lines) => {
        await Deno.writeTextFile(`${dir}/f.txt`, lines.join("\n"));
        const bad: number[] = [];
        const expectedBad = lines.flatMap((l, i) => (referenceValid(l) ? [] : [i + 1]));
        const valid = lines.filter(referenceValid);
        if (valid.length === 0) {
          await assert.rejects(
            () => readCriteo(`${dir}/f.txt`, { onMalformed: () => {} }),
            UsageError,
          );
          return;
        }
        const data = await readCriteo(`${dir}/f.txt`, { onMalformed: (_f, l) => bad.push(l) });
        assert.deepEqual(bad, expectedBad);
        assert.equal(data.rows, valid.length);
        // The categorical values land in the same order as a plain dictionary gives.
        for (let j = 0; j < 26; j++) {
          const dict = new Map<number, number>();
          const expected = valid.map((l) => {
            const x = l.split("\t")[14 + j];
            const v = x === "" ? 0 : parseInt(x, 16);
            if (!dict.has(v)) dict.set(v, dict.size);
            return dict.get(v)!;
          });
          assert.deepEqual([...data.sparse[j].indices], expected);
        }
      }),
      { numRuns: 150 },
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("criteo: streamed chunks report the malformed lines met while reading them", async () => {
  const text = [line("0"), "bad", line("0"), line("0"), "bad", "bad", line("1")].join("\n");
  const skipped: number[] = [];
  await withFile(text, async (p) => {
    for await (const chunk of streamCriteo(p, { batchRows: 2, onMalformed: () => {} })) {
      skipped.push(chunk.skipped);
    }
  });
  assert.deepEqual(skipped, [1, 2]);
  // Malformed lines after the last full chunk come in a last chunk of 0 rows.
  const tail: [number, number][] = [];
  await withFile([line("0"), line("0"), "bad"].join("\n"), async (p) => {
    for await (const chunk of streamCriteo(p, { batchRows: 2, onMalformed: () => {} })) {
      tail.push([chunk.rows, chunk.skipped]);
    }
  });
  assert.deepEqual(tail, [[2, 0], [0, 1]]);
});

Deno.test("line reader: lines across block boundaries, lines longer than a block (property)", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.string({ unit: fc.constantFrom("a", "b", "\t", "\r"), maxLength: 40 }), {
          maxLength: 20,
        }),
        fc.boolean(),
        fc.integer({ min: 1, max: 16 }),
        async (lines, trailingNewline, chunk) => {
          const text = lines.join("\n") + (trailingNewline && lines.length > 0 ? "\n" : "");
          await Deno.writeTextFile(`${dir}/l.txt`, text);
          const reader = await LineReader.open(`${dir}/l.txt`, chunk);
          const got: string[] = [];
          const decoder = new TextDecoder();
          for (;;) {
            while (reader.nextLine()) {
              got.push(decoder.decode(reader.buffer.subarray(reader.lineStart, reader.lineEnd)));
              assert.equal(reader.lineNumber, got.length);
            }
            if (!(await reader.fill())) break;
          }
          const expected = text === ""
            ? []
            : text.replace(/\n$/, "").split("\n").map((l) => l.replace(/\r$/, ""));
          assert.deepEqual(got, expected);
        },
      ),
      { numRuns: 100 },
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
