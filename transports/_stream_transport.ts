/**
 * A transport over one stream connection per peer (TCP or Unix sockets): frames
 * out through a per-peer write queue, frames in through a read loop per peer into
 * the tag-matching mailbox.
 *
 * @module
 */

import {
  type ByteReader,
  type ByteWriter,
  encodeFrame,
  FrameKind,
  type FrameReader,
  HEADER_BYTES,
  NO_SOURCE,
  writeAll,
  writeHeader,
} from "./_framing.ts";
import { type ClaimedReceive, Mailbox } from "./_mailbox.ts";
import { PeerError, ProtocolError } from "./errors.ts";
import { NativeSocket } from "./_native_socket.ts";
import { yieldCpu } from "../util/spin.ts";
import {
  checkPeerAndTag,
  FRAME_HEADROOM,
  type Transport,
  type TransportKind,
  type TransportStats,
} from "./transport.ts";

/** A connection as the transport uses it: a Deno connection or a native socket. */
export interface PeerConnection extends ByteReader, ByteWriter {
  /** Closes it. */
  close(): void;
}

/** One authenticated connection to a peer. */
export interface PeerLink {
  /** The connection. */
  conn: PeerConnection;
  /** Reads frames from it, positioned after the handshake. */
  reader: FrameReader;
}

/**
 * Payloads from this size are written after their header, as they are; smaller
 * ones are copied behind the header in a reusable per-peer buffer (one write).
 */
const SEPARATE_HEADER_BYTES = 16 * 1024;

/** How long a stalled native socket waits for a receive to spin on it before Deno's op takes it. */
const IDLE_HANDOVER_MS = 5;

/** A transport over stream connections. */
export class StreamTransport implements Transport {
  readonly kind: TransportKind;
  readonly rank: number;
  readonly size: number;
  #links: (PeerLink | undefined)[];
  #mailbox: Mailbox;
  #writeTail: Promise<void>[];
  #sendFailure: (Error | undefined)[];
  #closing = false;
  #readLoops: Promise<void>[] = [];
  #onClose?: () => void;
  #bytesSent = 0;
  #bytesReceived = 0;
  /** Per-peer buffers frames are assembled in (written from inside the peer's write queue). */
  #scratch: Uint8Array[];
  /** The links on native sockets, spun on while a receive waits. */
  #natives: NativeSocket[];
  #spinUs: number;
  /** Receives handed out and not yet settled. */
  #awaited = 0;
  #spinQueued = false;
  #spinWhile: () => boolean;
  #idleTimer: ReturnType<typeof setTimeout> | undefined;

  /**
   * Wraps established links.
   *
   * @param kind Which transport.
   * @param rank This rank.
   * @param links One link per peer (undefined at this rank's own index).
   * @param onClose Called once after close (e.g. to remove a socket file).
   * @param options The tag window (see `Mailbox`); how long a waiting receive
   * spins on native sockets, in microseconds (default 100), and while what
   * holds (default: always).
   */
  constructor(
    kind: TransportKind,
    rank: number,
    links: (PeerLink | undefined)[],
    onClose?: () => void,
    options: { tagWindow?: number; spinUs?: number; spinWhile?: () => boolean } = {},
  ) {
    this.kind = kind;
    this.rank = rank;
    this.size = links.length;
    this.#links = links;
    this.#mailbox = new Mailbox(this.size, options.tagWindow);
    this.#writeTail = links.map(() => Promise.resolve());
    this.#sendFailure = new Array(this.size).fill(undefined);
    this.#scratch = links.map(() => new Uint8Array(0));
    this.#onClose = onClose;
    this.#spinUs = options.spinUs ?? 100;
    this.#spinWhile = options.spinWhile ?? (() => true);
    this.#natives = [];
    for (const link of links) {
      if (!(link?.conn instanceof NativeSocket)) continue;
      this.#natives.push(link.conn);
      link.conn.onStall = () => {
        if (this.#closing || this.#spinUs <= 0 || !this.#spinWhile()) return false;
        if (this.#awaited > 0) this.#queueSpin();
        else this.#watchIdle();
        return true;
      };
    }
    links.forEach((link, peer) => {
      if (link) this.#readLoops.push(this.#readLoop(peer, link));
    });
  }

  /** How the connections move their bytes: libc through FFI (`native`) or Deno's ops (TCP). */
  get socketIo(): "native" | "deno" | undefined {
    if (this.kind !== "tcp") return undefined;
    return this.#natives.length > 0 ? "native" : "deno";
  }

  async #readLoop(peer: number, link: PeerLink): Promise<void> {
    let failure: Error;
    // A receive whose payload is being read straight into its own memory.
    let claimed: ClaimedReceive | undefined;
    link.reader.from = `rank ${peer}`;
    link.reader.destination = (h) => {
      if (h.kind !== FrameKind.Data) return undefined;
      claimed = this.#mailbox.claim(peer, h.tag, h.length);
      return claimed?.into;
    };
    // Checked on every header, before its payload is read: the connection is
    // authenticated as `peer`, so every frame must say it comes from `peer`, and
    // a data frame must fall within the tag window.
    link.reader.check = (h) => {
      if (h.source !== peer) {
        const who = h.source === NO_SOURCE ? "no rank" : `rank ${h.source}`;
        throw new ProtocolError(`the connection of rank ${peer} carried a frame from ${who}`);
      }
      if (h.kind === FrameKind.Data) {
        const why = this.#mailbox.admits(peer, h.tag);
        if (why) throw new ProtocolError(`rank ${peer} sent a frame whose ${why}`);
      }
    };
    try {
      for (;;) {
        const frame = await link.reader.next();
        if (frame === null) {
          failure = new PeerError(
            peer,
            `Rank ${peer} closed the connection unexpectedly (it may have died)`,
          );
          break;
        }
        if (frame.kind === FrameKind.Data) {
          this.#bytesReceived += frame.length;
          if (claimed) {
            const done = claimed;
            claimed = undefined;
            done.done();
          } else this.#mailbox.deliver(peer, frame.tag, frame.payload);
        } else if (frame.kind === FrameKind.Close) {
          failure = new PeerError(peer, `Rank ${peer} closed the connection`);
          break;
        } else if (frame.kind === FrameKind.Abort) {
          const why = new TextDecoder().decode(frame.payload);
          failure = new PeerError(peer, `Rank ${peer} failed: ${why}`);
          break;
        } else {
          throw new ProtocolError(`rank ${peer} sent an unexpected frame kind ${frame.kind}`);
        }
      }
    } catch (e) {
      if (this.#closing) failure = new PeerError(peer, `Transport closed`);
      else if (e instanceof ProtocolError) {
        failure = new PeerError(peer, `Protocol error from rank ${peer}: ${e.message}`, {
          cause: e,
        });
        // Nothing more from this connection can be trusted: drop it, so the
        // peer learns of it too.
        try {
          link.conn.close();
        } catch { /* already closed */ }
      } else if (
        e instanceof Deno.errors.ConnectionReset || e instanceof Deno.errors.BrokenPipe ||
        e instanceof Deno.errors.UnexpectedEof
      ) {
        // What a peer that died with unsent or unread data leaves behind.
        failure = new PeerError(
          peer,
          `Rank ${peer} closed the connection unexpectedly (it may have died): ${
            (e as Error).message
          }`,
          { cause: e },
        );
      } else {
        failure = new PeerError(
          peer,
          `Connection to rank ${peer} failed: ${(e as Error).message}`,
          {
            cause: e,
          },
        );
      }
    }
    this.#sendFailure[peer] ??= failure;
    claimed?.fail(failure);
    this.#mailbox.fail(peer, failure);
  }

  send(peer: number, tag: number, data: Uint8Array): Promise<void> {
    checkPeerAndTag(this.size, peer, tag);
    if (peer === this.rank) {
      this.#mailbox.deliver(peer, tag, data.slice());
      return Promise.resolve();
    }
    const failure = this.#sendFailure[peer];
    if (failure) return Promise.reject(failure);
    this.#bytesSent += data.byteLength;
    if (data.byteLength >= SEPARATE_HEADER_BYTES) {
      // A large payload is written as it is, after its header: copying it would
      // cost more than the second write.
      return this.#enqueue(peer, async (conn) => {
        const header = this.#scratch[peer].byteLength >= HEADER_BYTES
          ? this.#scratch[peer].subarray(0, HEADER_BYTES)
          : (this.#scratch[peer] = new Uint8Array(HEADER_BYTES));
        writeHeader(header, FrameKind.Data, tag, this.rank, data.byteLength);
        await writeAll(conn, header);
        await writeAll(conn, data);
      });
    }
    // A small one is framed when its turn comes, in the peer's reusable buffer:
    // one write, no allocation.
    return this.#enqueue(peer, (conn) => {
      const n = HEADER_BYTES + data.byteLength;
      if (this.#scratch[peer].byteLength < n) {
        this.#scratch[peer] = new Uint8Array(Math.max(n, 2 * this.#scratch[peer].byteLength));
      }
      const frame = this.#scratch[peer].subarray(0, n);
      frame.set(data, HEADER_BYTES);
      writeHeader(frame, FrameKind.Data, tag, this.rank);
      return writeAll(conn, frame);
    });
  }

  sendFramed(peer: number, tag: number, framed: Uint8Array): Promise<void> {
    const length = framed.byteLength - FRAME_HEADROOM;
    if (length < 0) return Promise.reject(new RangeError(`A framed send needs its header room`));
    if (peer === this.rank) return this.send(peer, tag, framed.subarray(FRAME_HEADROOM));
    checkPeerAndTag(this.size, peer, tag);
    const failure = this.#sendFailure[peer];
    if (failure) return Promise.reject(failure);
    this.#bytesSent += length;
    // The header room is exactly one header: header and payload go out in one write.
    writeHeader(framed, FrameKind.Data, tag, this.rank);
    return this.#enqueue(peer, framed);
  }

  #enqueue(
    peer: number,
    frame: Uint8Array | ((conn: PeerConnection) => Promise<void>),
  ): Promise<void> {
    const conn = this.#links[peer]!.conn;
    const write = () => typeof frame === "function" ? frame(conn) : writeAll(conn, frame);
    const next = this.#writeTail[peer].then(write).catch((e) => {
      const err = this.#sendFailure[peer] ??
        new PeerError(peer, `Sending to rank ${peer} failed: ${(e as Error).message}`, {
          cause: e,
        });
      this.#sendFailure[peer] = err;
      throw err;
    });
    // Keep the queue going after a failure; the failure is reported to this send only.
    this.#writeTail[peer] = next.catch(() => {});
    return next;
  }

  recv(peer: number, tag: number): Promise<Uint8Array> {
    checkPeerAndTag(this.size, peer, tag);
    return this.#watch(this.#mailbox.take(peer, tag));
  }

  recvInto(
    peer: number,
    tag: number,
    into: (length: number) => Uint8Array,
  ): Promise<Uint8Array> {
    checkPeerAndTag(this.size, peer, tag);
    return this.#watch(this.#mailbox.take(peer, tag, into));
  }

  /** Counts a receive as awaited until it settles, and spins for it (native sockets). */
  #watch(received: Promise<Uint8Array>): Promise<Uint8Array> {
    if (this.#natives.length === 0 || this.#spinUs <= 0) return received;
    this.#awaited++;
    const settled = () => {
      this.#awaited--;
    };
    received.then(settled, settled);
    this.#queueSpin();
    return received;
  }

  /** Spins once the current JavaScript has run (after the sends it queued have gone out). */
  #queueSpin(): void {
    if (this.#spinQueued || this.#spinUs <= 0) return;
    this.#spinQueued = true;
    queueMicrotask(() => {
      this.#spinQueued = false;
      this.#spin();
    });
  }

  /**
   * While a receive waits, tries the native sockets without sleeping, yielding
   * the CPU between rounds, until one moves data, the budget is spent or the
   * spin condition stops holding; the sockets that still wait then sleep in
   * Deno's ops. Waking a sleeping thread costs more than a small exchange.
   * When nobody waits any more, the sockets are left for the next receive to
   * spin on, and looked at again in a while.
   */
  #spin(): void {
    if (this.#closing) return;
    if (this.#awaited === 0) return this.#watchIdle();
    const end = performance.now() + this.#spinUs / 1000;
    for (;;) {
      let stalled = false;
      for (const socket of this.#natives) {
        if (socket.progress()) {
          // What this unblocks runs next; the other sockets wait for its next spin.
          return this.#watchIdle();
        }
        stalled ||= socket.stalled;
      }
      if (!stalled) return;
      if (this.#awaited === 0) return this.#watchIdle();
      if (performance.now() >= end || !this.#spinWhile()) break;
      yieldCpu();
    }
    for (const socket of this.#natives) socket.sleep();
  }

  /**
   * Stalled sockets that nobody spins on are handed to Deno's ops after a
   * while, so that frames still arrive (and a peer's death is still seen)
   * when no receive waits. One timer serves all sockets.
   */
  #watchIdle(): void {
    if (this.#idleTimer !== undefined || this.#closing) return;
    this.#idleTimer = setTimeout(() => {
      this.#idleTimer = undefined;
      if (this.#closing) return;
      for (const socket of this.#natives) socket.sleep();
    }, IDLE_HANDOVER_MS);
  }

  stats(): TransportStats {
    return {
      bufferedBytes: this.#mailbox.bufferedBytes,
      peakBufferedBytes: this.#mailbox.peakBufferedBytes,
      bytesSent: this.#bytesSent,
      bytesReceived: this.#bytesReceived,
    };
  }

  resetPeak(): void {
    this.#mailbox.resetPeak();
  }

  /**
   * Tells every peer this rank failed (so they report it instead of a bare
   * disconnect), then closes.
   *
   * @param reason Why.
   */
  async abort(reason: string): Promise<void> {
    const body = new TextEncoder().encode(reason.slice(0, 1000));
    await this.#shutdown(encodeFrame(FrameKind.Abort, 0, body, this.rank));
  }

  async close(): Promise<void> {
    await this.#shutdown(encodeFrame(FrameKind.Close, 0, new Uint8Array(), this.rank));
  }

  async #shutdown(goodbye: Uint8Array): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    clearTimeout(this.#idleTimer);
    await Promise.all(this.#links.map(async (link, peer) => {
      if (!link) return;
      if (!this.#sendFailure[peer]) {
        await Promise.race([
          this.#enqueue(peer, goodbye).catch(() => {}),
          new Promise((r) => setTimeout(r, 1000)),
        ]);
      }
      try {
        link.conn.close();
      } catch { /* already closed */ }
    }));
    await Promise.all(this.#readLoops);
    this.#mailbox.failAll(new PeerError(this.rank, "Transport closed"));
    this.#onClose?.();
  }
}
