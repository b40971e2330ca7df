/**
 * The engine-thread side of the hand-off measurement: answers every bump of
 * word 0 by bumping word 1 (shared memory), or echoes every message.
 *
 * @module
 */

/// <reference lib="deno.worker" />

import { spinUntil } from "../../util/spin.ts";

self.onmessage = (event: MessageEvent<SharedArrayBuffer | string>) => {
  if (typeof event.data === "string") {
    self.postMessage(event.data);
    return;
  }
  const words = new Int32Array(event.data);
  const spinUs = words[2];
  (async () => {
    let seen = 0;
    for (;;) {
      const kick = Atomics.load(words, 0);
      if (kick > seen) {
        seen = kick;
        Atomics.add(words, 1, 1);
        Atomics.notify(words, 1);
        continue;
      }
      if (spinUntil(() => Atomics.load(words, 0) !== kick, spinUs)) continue;
      const waiting = Atomics.waitAsync(words, 0, kick);
      if (waiting.async) await waiting.value;
    }
  })();
};
