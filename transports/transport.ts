/**
 * The transport interface: tag-matched point-to-point messages between ranks.
 *
 * A rank sends bytes to a peer under a tag and receives from a peer under a tag.
 * Messages that arrive early for a tag nobody has asked for yet are kept until
 * asked for; two messages with the same peer and tag are received in the order
 * they were sent. Collectives use the iteration number as the tag.
 *
 * @module
 */

/** The largest tag a transport accepts (tags are unsigned 32-bit integers). */
export const MAX_TAG = 0xffff_ffff;

/**
 * Bytes of writable room a caller of `Transport.sendFramed` leaves in front of
 * the payload, for the transport's frame header.
 */
export const FRAME_HEADROOM = 16;

/**
 * Tags at and above this value are control tags (barriers, gathers between
 * collectives); tags below it are for collectives. Transports may keep the two
 * apart (the MPI transport sends control tags on a communicator of their own).
 *
 * @example The tag of a program's first control exchange
 * ```ts
 * import { CONTROL_TAG_BASE, MAX_TAG } from "@blsbench/core/transports";
 * const barrierTag = CONTROL_TAG_BASE;
 * if (barrierTag > MAX_TAG || barrierTag % 32768 !== 0) throw new Error("wrong");
 * ```
 */
export const CONTROL_TAG_BASE = 0xf000_0000;

/** The transports this suite ships. */
export type TransportKind = "tcp" | "unix" | "mpi";

/** Tag-matched point-to-point messaging between the ranks of one run. */
export interface Transport {
  /** Which transport this is. */
  readonly kind: TransportKind;
  /** This process's rank, 0 <= rank < size. */
  readonly rank: number;
  /** The number of ranks in the run. */
  readonly size: number;
  /**
   * How the connections move their bytes, for TCP: libc's system calls through
   * FFI (`native`) or Deno's socket ops (`deno`).
   */
  readonly socketIo?: "native" | "deno";
  /**
   * Sends `data` to `peer` under `tag`. The promise resolves once the bytes are
   * handed over (the caller may then reuse `data`); it rejects when the peer is
   * gone.
   */
  send(peer: number, tag: number, data: Uint8Array): Promise<void>;
  /**
   * Receives the next message from `peer` under `tag`. It rejects with an error
   * naming the peer when the peer closes or fails before sending it.
   */
  recv(peer: number, tag: number): Promise<Uint8Array>;
  /**
   * Like `recv`, but the payload lands in memory the caller provides: `into` is
   * called once with the payload's length and returns where to put it (a view of
   * exactly that length), and the promise resolves with that view. A transport
   * that can reads the payload straight into it; one that arrived before it was
   * asked for is copied there.
   */
  recvInto?(peer: number, tag: number, into: (length: number) => Uint8Array): Promise<Uint8Array>;
  /**
   * Like `send`, for a payload with `FRAME_HEADROOM` writable bytes in front of
   * it: `framed` spans that room and the payload. The transport writes its
   * header into the room, so header and payload leave in one write without a
   * copy. The caller must not touch `framed` until the promise settles.
   */
  sendFramed?(peer: number, tag: number, framed: Uint8Array): Promise<void>;
  /** Closes every connection; pending receives reject. */
  close(): Promise<void>;
  /** Counters for memory and traffic measurements, where the transport keeps them. */
  stats?(): TransportStats;
  /** Restarts the peak-buffer measurement from the current level. */
  resetPeak?(): void;
  /** Tells the peers this rank failed, with a reason they can report, then closes. */
  abort?(reason: string): Promise<void>;
  /**
   * Cancels the receives still waiting, with no message matched, for a tag in
   * `[fromTag, toTag)` (for example the look-ahead receive a BLS collective
   * posts for the iteration after its last one, which nobody sends); their
   * promises reject. Returns how many were cancelled.
   */
  cancelRecvs?(fromTag: number, toTag: number): number;
}

/** Counters a transport keeps. */
export interface TransportStats {
  /** Bytes received and not yet taken by `recv`. */
  bufferedBytes: number;
  /** The largest `bufferedBytes` since the last `resetPeak`. */
  peakBufferedBytes: number;
  /** Payload bytes sent to other ranks. */
  bytesSent: number;
  /** Payload bytes received from other ranks. */
  bytesReceived: number;
}

/**
 * Checks a peer rank and a tag, throwing a `RangeError` naming the bad value.
 *
 * @example Check arguments
 * ```ts
 * import { checkPeerAndTag } from "@blsbench/core/transports";
 * checkPeerAndTag(4, 3, 17); // fine
 * ```
 *
 * @param size The world size.
 * @param peer The peer rank.
 * @param tag The tag.
 */
export function checkPeerAndTag(size: number, peer: number, tag: number): void {
  if (!Number.isInteger(peer) || peer < 0 || peer >= size) {
    throw new RangeError(`Peer rank ${peer} is out of range 0..${size - 1}`);
  }
  if (!Number.isInteger(tag) || tag < 0 || tag > MAX_TAG) {
    throw new RangeError(`Tag ${tag} is out of range 0..${MAX_TAG}`);
  }
}
