/**
 * The progress engine's thread: it owns the transport and runs the collectives,
 * so data moves and peers are answered while the rank's main thread computes.
 * Each collective runs on a shared channel: the thread waits for posts with
 * `Atomics.waitAsync` beside its sockets, sends blocks straight from the
 * outgoing arena, receives them straight into the incoming arena, and publishes
 * results by writing their offsets and bumping a counter. Messages carry only
 * setup, errors and shutdown.
 *
 * @module
 */

/// <reference lib="deno.worker" />

import { openTransport } from "../transports/open.ts";
import type { Transport } from "../transports/transport.ts";
import type { Alltoallv, IterationBlocks } from "./alltoallv.ts";
import { IterationArena } from "./arena.ts";
import { createAlltoallv } from "./create.ts";
import { spinUntil } from "../util/spin.ts";
import type {
  CollectiveSetup,
  EngineFailure,
  EngineReply,
  EngineRequest,
} from "./_progress_protocol.ts";
import {
  ChannelLayout,
  DONE,
  DRAIN,
  KICK,
  MAIN_WAITING,
  POSTED,
  SENT,
  SIGNAL,
  slotsFor,
  STAT_BUFFERED,
  STAT_PEAK,
  STATE,
  State,
  wake,
  WANT_SENT,
} from "./_progress_channel.ts";

let transport: Transport | undefined;
const runners = new Map<number, Runner>();

/**
 * Whether the main thread waits for any collective: only then may the
 * transport spin on its sockets (otherwise the main thread computes, often on
 * the same CPU, and a spinning thread would slow it down).
 */
function mainThreadWaits(): boolean {
  for (const runner of runners.values()) if (runner.mainWaiting) return true;
  return false;
}

function reply(message: EngineReply | EngineFailure, transfer: ArrayBuffer[] = []): void {
  self.postMessage(message, transfer);
}

function describe(e: unknown): { name: string; message: string } {
  const err = e as Error;
  return { name: err?.name ?? "Error", message: err?.message ?? String(e) };
}

function fail(seq: number, e: unknown): void {
  reply({ op: "reply", seq, error: describe(e) });
}

/** One collective, driven by its channel. */
class Runner {
  #id: number;
  #words: Int32Array;
  #stats: Float64Array;
  #layout: ChannelLayout;
  #outgoing: SharedArrayBuffer[];
  #incoming: IterationArena;
  #coll: Alltoallv;
  #rank: number;
  #released = false;
  #spinUs: number;

  constructor(t: Transport, id: number, setup: CollectiveSetup) {
    const { buffers, lag } = setup;
    this.#id = id;
    this.#rank = t.rank;
    this.#spinUs = setup.spinUs;
    this.#words = new Int32Array(buffers.words);
    this.#stats = new Float64Array(buffers.stats);
    this.#layout = new ChannelLayout(t.size, buffers.outgoing.length, buffers.incoming.length);
    this.#outgoing = buffers.outgoing;
    this.#incoming = new IterationArena(buffers.incoming);
    const options = {
      tagBase: setup.tagBase,
      timeoutMs: setup.timeoutMs,
      arena: this.#incoming,
      headroom: true,
      onSent: (iter: number) => {
        Atomics.store(this.#words, SENT, iter + 1);
        if (Atomics.load(this.#words, WANT_SENT)) wake(this.#words, SIGNAL);
      },
    };
    if (buffers.incoming.length < slotsFor(lag)) throw new RangeError("Channel too small");
    this.#coll = createAlltoallv(t, { lag, ...options });
  }

  /** Whether the main thread waits for this collective. */
  get mainWaiting(): boolean {
    return Atomics.load(this.#words, MAIN_WAITING) !== 0;
  }

  /** Stops waiting for posts (the collective was dropped or the engine closes). */
  release(): void {
    this.#released = true;
    wake(this.#words, KICK);
  }

  async run(): Promise<void> {
    const words = this.#words;
    let seen = 0;
    try {
      for (;;) {
        const kick = Atomics.load(words, KICK);
        if (seen < Atomics.load(words, POSTED)) {
          const res = await this.#coll.exchange(this.#posted(seen));
          seen++;
          if (res) this.#publish(res);
          continue;
        }
        if (Atomics.load(words, DRAIN)) {
          for (const res of await this.#coll.drain()) this.#publish(res);
          Atomics.store(words, STATE, State.Drained);
          wake(words, SIGNAL);
          return;
        }
        if (this.#released) return;
        // The next post usually follows the last result within microseconds:
        // catching it spinning saves the thread a wake-up.
        if (spinUntil(() => Atomics.load(words, KICK) !== kick, this.#spinUs)) continue;
        const waiting = Atomics.waitAsync(words, KICK, kick);
        if (waiting.async) await waiting.value;
      }
    } catch (e) {
      Atomics.store(words, STATE, State.Failed);
      reply({ op: "failed", id: this.#id, error: describe(e) });
      wake(words, SIGNAL);
    } finally {
      runners.delete(this.#id);
    }
  }

  /** The blocks the main thread wrote for `iter`, each with header room in front. */
  #posted(iter: number): Uint8Array[] {
    const { size } = this.#layout;
    const buffer = this.#outgoing[iter % this.#outgoing.length];
    const blocks = new Array<Uint8Array>(size);
    for (let q = 0; q < size; q++) {
      if (q === this.#rank) {
        blocks[q] = new Uint8Array(0);
        continue;
      }
      const at = this.#layout.outBlock(iter, q);
      blocks[q] = new Uint8Array(buffer, this.#words[at], this.#words[at + 1]);
    }
    return blocks;
  }

  #publish(res: IterationBlocks): void {
    const { size } = this.#layout;
    const words = this.#words;
    const slot = this.#incoming.buffers[res.iter % this.#incoming.slots];
    words[this.#layout.inStamp(res.iter)] = res.iter;
    for (let q = 0; q < size; q++) {
      if (q === this.#rank) continue;
      const block = res.blocks[q];
      const at = this.#layout.inBlock(res.iter, q);
      if (block.byteLength > 0 && block.buffer !== slot) {
        throw new Error(`The block from rank ${q} in iteration ${res.iter} is not in its arena`);
      }
      words[at] = block.byteLength > 0 ? block.byteOffset : 0;
      words[at + 1] = block.byteLength;
    }
    const buffered = this.#coll.buffered?.();
    if (buffered) {
      this.#stats[STAT_BUFFERED] = buffered.bytes;
      this.#stats[STAT_PEAK] = buffered.peakBytes;
    }
    this.#stats[this.#layout.readyAt(res.iter)] = res.readyAtMs ??
      performance.timeOrigin + performance.now();
    Atomics.store(words, DONE, res.iter + 1);
    wake(words, SIGNAL);
  }
}

self.onmessage = (event: MessageEvent<EngineRequest>) => {
  const msg = event.data;
  switch (msg.op) {
    case "open":
      openTransport(msg.kind, { ...msg.options, spinWhile: mainThreadWaits }).then((t) => {
        transport = t;
        const value = { rank: t.rank, size: t.size, socketIo: t.socketIo };
        reply({ op: "reply", seq: msg.seq, value });
      }, (e) => fail(msg.seq, e));
      break;
    case "create":
      try {
        const runner = new Runner(transport!, msg.id, msg.setup);
        runners.set(msg.id, runner);
        runner.run();
        reply({ op: "reply", seq: msg.seq });
      } catch (e) {
        fail(msg.seq, e);
      }
      break;
    case "release":
      runners.get(msg.id)?.release();
      reply({ op: "reply", seq: msg.seq });
      break;
    case "send":
      transport!.send(msg.peer, msg.tag, msg.data).then(
        () => reply({ op: "reply", seq: msg.seq }),
        (e) => fail(msg.seq, e),
      );
      break;
    case "recv":
      transport!.recv(msg.peer, msg.tag).then(
        (data) => {
          const whole = data.byteOffset === 0 && data.byteLength === data.buffer.byteLength &&
            !(data.buffer instanceof SharedArrayBuffer);
          const owned = whole ? data : data.slice();
          reply({ op: "reply", seq: msg.seq, value: owned }, [owned.buffer as ArrayBuffer]);
        },
        (e) => fail(msg.seq, e),
      );
      break;
    case "stats":
      reply({ op: "reply", seq: msg.seq, value: transport?.stats?.() });
      break;
    case "close":
    case "abort": {
      for (const runner of runners.values()) runner.release();
      const done = msg.op === "abort" && transport?.abort
        ? transport.abort(msg.reason)
        : transport?.close() ?? Promise.resolve();
      done.then(() => reply({ op: "reply", seq: msg.seq }), (e) => fail(msg.seq, e));
      break;
    }
  }
};
