/**
 * Messages between a rank's main thread and its progress engine thread.
 *
 * @module
 */

import type { OpenOptions } from "../transports/open.ts";
import type { TransportKind } from "../transports/transport.ts";
import type { BlsOptions } from "./bls.ts";

/** A request to the progress thread. Every request carries a sequence number. */
export type EngineRequest =
  | { op: "open"; seq: number; kind: TransportKind; options: OpenOptions }
  | { op: "create"; seq: number; id: number; options: BlsOptions }
  | { op: "post"; seq: number; id: number; blocks: Uint8Array[] }
  | { op: "drain"; seq: number; id: number }
  | { op: "send"; seq: number; peer: number; tag: number; data: Uint8Array }
  | { op: "recv"; seq: number; peer: number; tag: number }
  | { op: "stats"; seq: number }
  | { op: "close"; seq: number }
  | { op: "abort"; seq: number; reason: string };

/** A request before its sequence number is assigned. */
export type EngineCall = EngineRequest extends infer R ? R extends unknown ? Omit<R, "seq"> : never
  : never;

/** The answer to one request. */
export interface EngineReply {
  /** Always "reply". */
  op: "reply";
  /** The request's sequence number. */
  seq: number;
  /** The result, if any. */
  value?: unknown;
  /** The error, if the request failed. */
  error?: { name: string; message: string };
}

/**
 * The buffers to transfer for a list of blocks: each whole, distinct buffer once.
 * Blocks that are views into a larger or shared buffer must be copied first
 * (see `ownedBlocks`).
 *
 * @param blocks The blocks.
 * @returns Their buffers.
 */
export function transferList(blocks: Uint8Array[]): ArrayBuffer[] {
  const seen = new Set<ArrayBufferLike>();
  for (const b of blocks) {
    if (
      b && b.byteOffset === 0 && b.byteLength === b.buffer.byteLength &&
      !(b.buffer instanceof SharedArrayBuffer)
    ) {
      seen.add(b.buffer);
    }
  }
  return [...seen] as ArrayBuffer[];
}

/**
 * Returns blocks that each own their whole buffer, copying the ones that do not
 * (views into a larger buffer, or several blocks sharing one), so they can be
 * transferred without detaching anything else.
 *
 * @param blocks The blocks.
 * @returns Transferable blocks.
 */
export function ownedBlocks(blocks: Uint8Array[]): Uint8Array[] {
  const seen = new Set<ArrayBufferLike>();
  return blocks.map((b) => {
    const whole = b.byteOffset === 0 && b.byteLength === b.buffer.byteLength;
    if (whole && !seen.has(b.buffer) && !(b.buffer instanceof SharedArrayBuffer)) {
      seen.add(b.buffer);
      return b;
    }
    return b.slice();
  });
}
