/**
 * Messages between a rank's main thread and its progress engine thread.
 *
 * @module
 */

import type { OpenOptions } from "../transports/open.ts";
import type { TransportKind } from "../transports/transport.ts";
import type { ChannelBuffers } from "./_progress_channel.ts";

/** What the engine thread needs to run one collective on a shared channel. */
export interface CollectiveSetup {
  /** The lag bound. */
  lag: number;
  /** Tag of iteration 0. */
  tagBase: number;
  /** Per-call timeout in ms (Infinity for none). */
  timeoutMs: number;
  /** Microseconds the engine thread spins for the next post before it sleeps. */
  spinUs: number;
  /** The channel's shared memory. */
  buffers: ChannelBuffers;
}

/** A request to the progress thread. Every request carries a sequence number. */
export type EngineRequest =
  | { op: "open"; seq: number; kind: TransportKind; options: OpenOptions }
  | { op: "create"; seq: number; id: number; setup: CollectiveSetup }
  | { op: "release"; seq: number; id: number }
  | { op: "send"; seq: number; peer: number; tag: number; data: Uint8Array }
  | { op: "recv"; seq: number; peer: number; tag: number }
  | { op: "stats"; seq: number }
  | { op: "close"; seq: number }
  | { op: "abort"; seq: number; reason: string };

/** A request before its sequence number is assigned. */
export type EngineCall = EngineRequest extends infer R ? R extends unknown ? Omit<R, "seq"> : never
  : never;

/** A collective failed on the engine thread (its channel's state says so too). */
export interface EngineFailure {
  /** Always "failed". */
  op: "failed";
  /** The collective. */
  id: number;
  /** The error. */
  error: { name: string; message: string };
}

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
