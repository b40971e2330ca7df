/**
 * The progress engine's thread: it owns the transport and the BLS collectives,
 * so data moves and peers are answered while the rank's main thread computes.
 * Blocks cross the thread boundary as transferred ArrayBuffers (no copy).
 *
 * @module
 */

/// <reference lib="deno.worker" />

import { openTransport } from "../transports/open.ts";
import type { Transport } from "../transports/transport.ts";
import type { Alltoallv, IterationBlocks } from "./alltoallv.ts";
import { SyncAlltoallv } from "./sync.ts";
import { BlsAlltoallv } from "./bls.ts";
import type { EngineReply, EngineRequest } from "./_progress_protocol.ts";
import { transferList } from "./_progress_protocol.ts";

let transport: Transport | undefined;
const collectives = new Map<number, Alltoallv>();

function reply(message: EngineReply, transfer: ArrayBuffer[] = []): void {
  self.postMessage(message, transfer);
}

function fail(seq: number, e: unknown): void {
  const err = e as Error;
  reply({
    op: "reply",
    seq,
    error: { name: err?.name ?? "Error", message: err?.message ?? String(e) },
  });
}

function resultReply(seq: number, res: IterationBlocks | undefined): void {
  reply({ op: "reply", seq, value: res }, res ? transferList(res.blocks) : []);
}

self.onmessage = (event: MessageEvent<EngineRequest>) => {
  const msg = event.data;
  switch (msg.op) {
    case "open":
      openTransport(msg.kind, msg.options).then((t) => {
        transport = t;
        reply({ op: "reply", seq: msg.seq, value: { rank: t.rank, size: t.size } });
      }, (e) => fail(msg.seq, e));
      break;
    case "create":
      try {
        const { lag, tagBase, timeoutMs } = msg.options;
        // Lag 0 is the synchronous pairwise exchange itself.
        collectives.set(
          msg.id,
          lag === 0
            ? new SyncAlltoallv(transport!, tagBase, timeoutMs)
            : new BlsAlltoallv(transport!, msg.options),
        );
        reply({ op: "reply", seq: msg.seq });
      } catch (e) {
        fail(msg.seq, e);
      }
      break;
    case "post":
      collectives.get(msg.id)!.exchange(msg.blocks).then(
        (res) => resultReply(msg.seq, res),
        (e) => fail(msg.seq, e),
      );
      break;
    case "drain":
      collectives.get(msg.id)!.drain().then((list) => {
        collectives.delete(msg.id);
        reply(
          { op: "reply", seq: msg.seq, value: list },
          list.flatMap((r) => transferList(r.blocks)),
        );
      }, (e) => fail(msg.seq, e));
      break;
    case "send":
      transport!.send(msg.peer, msg.tag, msg.data).then(
        () => reply({ op: "reply", seq: msg.seq }),
        (e) => fail(msg.seq, e),
      );
      break;
    case "recv":
      transport!.recv(msg.peer, msg.tag).then(
        (data) => reply({ op: "reply", seq: msg.seq, value: data }, transferList([data])),
        (e) => fail(msg.seq, e),
      );
      break;
    case "stats":
      reply({ op: "reply", seq: msg.seq, value: transport?.stats?.() });
      break;
    case "close":
    case "abort": {
      const done = msg.op === "abort" && transport?.abort
        ? transport.abort(msg.reason)
        : transport?.close() ?? Promise.resolve();
      done.then(() => reply({ op: "reply", seq: msg.seq }), (e) => fail(msg.seq, e));
      break;
    }
  }
};
