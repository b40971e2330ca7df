/**
 * Builds the full mesh of stream connections: every rank listens, publishes its
 * address at the rendezvous store, dials the ranks below it and accepts the ranks
 * above it. Connections that fail the handshake are dropped and logged; the mesh
 * carries on waiting for the real peers.
 *
 * @module
 */

import { authenticateAsClient, authenticateAsServer } from "./_auth.ts";
import { DEFAULT_MAX_FRAME_BYTES } from "./_framing.ts";
import { sleep, withTimeout } from "./deadline.ts";
import { type PeerLink, StreamTransport } from "./_stream_transport.ts";
import { adoptNativeSockets, nativeSocketsAvailable } from "./_native_socket.ts";
import { PeerError, TimeoutError } from "./errors.ts";
import { type Address, RendezvousClient } from "./rendezvous.ts";
import type { TransportKind } from "./transport.ts";

/** What every stream transport needs to join a run. */
export interface MeshOptions {
  /** This rank. */
  rank: number;
  /** The world size. */
  size: number;
  /** The run's secret (`BLSBENCH_TOKEN`). */
  token: string;
  /** The rendezvous store's address. */
  master: Address;
  /** Address this rank listens on (TCP; default 127.0.0.1). */
  bind?: string;
  /** How long to wait for the mesh to form, in ms (default 60 s). */
  timeoutMs?: number;
  /** Largest frame accepted (default 1 GiB). */
  maxFrameBytes?: number;
  /** A prefix for the store keys, so several groups can share one store. */
  namespace?: string;
  /** Where to log dropped connections (default: stderr). */
  log?: (message: string) => void;
  /**
   * How far from the highest tag asked for a message nobody waits for yet may
   * be (default 65,536); further out it is a protocol error naming the peer.
   */
  tagWindow?: number;
  /**
   * How TCP connections move their bytes: `native` through libc's system calls
   * (FFI; Linux, in a program with every permission), spinning while a receive waits, or
   * `deno` through Deno's socket ops. `auto` (the default) is native where it
   * can be and Deno's ops elsewhere.
   */
  socketIo?: SocketIo;
  /**
   * Microseconds a waiting receive spins on native sockets before it sleeps
   * (default 100).
   */
  spinUs?: number;
  /**
   * Spin on native sockets only while this says so (default: whenever a
   * receive waits). A progress thread passes whether its main thread waits.
   */
  spinWhile?: () => boolean;
}

/** How TCP connections move their bytes (see `MeshOptions.socketIo`). */
export type SocketIo = "auto" | "native" | "deno";

/** How one kind of stream socket listens and dials. */
export interface SocketFamily {
  /** The transport kind. */
  kind: TransportKind;
  /** Starts listening; returns the listener and the address to publish. */
  listen(options: MeshOptions): { listener: Deno.Listener; address: string; cleanup?: () => void };
  /** Dials a published address. */
  dial(address: string): Promise<Deno.Conn>;
  /** Prepares an accepted connection (socket options). */
  onAccept?(conn: Deno.Conn): void;
  /** Describes an accepted connection's origin for logs. */
  describe(conn: Deno.Conn): string;
}

const HANDSHAKE_TIMEOUT_MS = 5_000;

/** The state of one rank joining the mesh, shared by its accepting and dialing sides. */
interface Joining {
  family: SocketFamily;
  rank: number;
  size: number;
  token: string;
  maxFrame: number;
  log: (message: string) => void;
  /** One link per peer, filled in as handshakes finish. */
  links: (PeerLink | undefined)[];
  /** Accepted connections still in their handshake. */
  handshaking: Set<Deno.Conn>;
  /** Connections this rank dialed. */
  opened: Deno.Conn[];
  /** Accepted connections dropped for failing the handshake. */
  dropped: number;
}

/**
 * Joins the mesh and returns the transport.
 *
 * @param family How to listen and dial.
 * @param options Rank, size, token, master.
 * @returns The connected transport.
 */
export async function joinMesh(
  family: SocketFamily,
  options: MeshOptions,
): Promise<StreamTransport> {
  const socketIo = checkMeshOptions(family, options);
  const { rank, size, token } = options;
  const timeoutMs = options.timeoutMs ?? 60_000;
  const ns = options.namespace ?? "mesh";
  const joining: Joining = {
    family,
    rank,
    size,
    token,
    maxFrame: options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES,
    log: options.log ?? ((m: string) => console.error(m)),
    links: new Array(size).fill(undefined),
    handshaking: new Set(),
    opened: [],
    dropped: 0,
  };
  const { links } = joining;
  if (size === 1) return new StreamTransport(family.kind, rank, links);

  const { listener, address, cleanup } = family.listen(options);
  let store: RendezvousClient;
  try {
    store = await RendezvousClient.connect(options.master, token, rank, timeoutMs);
  } catch (e) {
    closeQuietly([listener]);
    cleanup?.();
    throw e;
  }
  try {
    await store.set(`${ns}/addr/${rank}`, address);
    const accepting = acceptPeers(joining, listener);
    const dialing = Array.from(
      { length: rank },
      async (_, peer) => dialPeer(joining, peer, await store.get(`${ns}/addr/${peer}`)),
    );
    await withTimeout(
      Promise.all([accepting, ...dialing]),
      timeoutMs,
      `Rank ${rank} timed out after ${timeoutMs} ms waiting for its peers to connect`,
    );
  } catch (e) {
    closeQuietly([...joining.opened, ...joining.handshaking, ...links.map((l) => l?.conn)]);
    cleanup?.();
    if (e instanceof TimeoutError) {
      const missing = links.map((l, p) => (l || p === rank ? -1 : p)).filter((p) => p >= 0);
      const hint = joining.dropped
        ? ` (${joining.dropped} connection(s) were dropped for failing the handshake: is BLSBENCH_TOKEN the same on every rank?)`
        : "";
      throw new TimeoutError(
        `Rank ${rank} timed out after ${timeoutMs} ms: rank(s) ${
          missing.join(", ")
        } did not connect${hint}`,
      );
    }
    throw e;
  } finally {
    store.close();
    closeQuietly([listener]);
  }
  // Strangers still in their handshake are of no use now.
  closeQuietly(joining.handshaking);
  // Nobody dials this rank any more: remove its socket file now, so a rank
  // killed later leaves nothing behind.
  cleanup?.();
  if (family.kind === "tcp" && socketIo !== "deno") useNativeSockets(links, socketIo === "native");
  return new StreamTransport(family.kind, rank, links, undefined, {
    tagWindow: options.tagWindow,
    spinUs: options.spinUs,
    spinWhile: options.spinWhile,
  });
}

/** Checks rank, size and socket I/O; returns the socket I/O asked for. */
function checkMeshOptions(family: SocketFamily, options: MeshOptions): SocketIo {
  const { rank, size } = options;
  if (!Number.isInteger(size) || size < 1) {
    throw new RangeError(`World size ${size} must be at least 1`);
  }
  if (!Number.isInteger(rank) || rank < 0 || rank >= size) {
    throw new RangeError(`Rank ${rank} is out of range 0..${size - 1}`);
  }
  const socketIo = options.socketIo ?? "auto";
  if (!["auto", "native", "deno"].includes(socketIo)) {
    throw new TypeError(`Socket I/O must be auto, native or deno, got '${socketIo}'`);
  }
  if (socketIo === "native" && (family.kind !== "tcp" || !nativeSocketsAvailable())) {
    throw new TypeError(
      family.kind === "tcp"
        ? "Native socket I/O needs Linux and every permission (-A: FFI, and listing /proc/self/fd)"
        : `Native socket I/O is for TCP, not ${family.kind}`,
    );
  }
  return socketIo;
}

/**
 * Accepts the higher ranks. Handshakes run side by side, so a stranger that
 * connects and says nothing cannot hold up the real peers behind it.
 */
function acceptPeers(joining: Joining, listener: Deno.Listener): Promise<void> {
  const { family, rank, size, token, maxFrame, links, handshaking } = joining;
  return new Promise<void>((resolve, reject) => {
    let missing = size - 1 - rank;
    if (missing === 0) return resolve();
    const admit = async (conn: Deno.Conn, from: string) => {
      try {
        const hs = await withTimeout(
          authenticateAsServer(conn, token, rank, from, maxFrame),
          HANDSHAKE_TIMEOUT_MS,
          `${from} did not finish the handshake in time`,
        );
        if (hs.peerRank <= rank || hs.peerRank >= size || links[hs.peerRank]) {
          throw new Error(`it claimed rank ${hs.peerRank}, which is not expected here`);
        }
        handshaking.delete(conn);
        links[hs.peerRank] = { conn, reader: hs.reader };
        if (--missing === 0) resolve();
      } catch (e) {
        handshaking.delete(conn);
        joining.dropped++;
        joining.log(`rank ${rank}: dropped a connection from ${from}: ${(e as Error).message}`);
        closeQuietly([conn]);
      }
    };
    (async () => {
      try {
        while (missing > 0) {
          const conn = await listener.accept();
          handshaking.add(conn);
          family.onAccept?.(conn);
          admit(conn, family.describe(conn));
        }
      } catch (e) {
        if (missing > 0) reject(e);
      }
    })();
  });
}

/** Dials a lower rank at its published address and proves the run's secret to it. */
async function dialPeer(joining: Joining, peer: number, peerAddress: string): Promise<void> {
  const { family, rank, token, maxFrame } = joining;
  let conn: Deno.Conn | undefined;
  for (let attempt = 0;; attempt++) {
    try {
      conn = await family.dial(peerAddress);
      break;
    } catch (e) {
      if (attempt > 50) {
        throw new PeerError(
          peer,
          `Could not connect to rank ${peer} at ${peerAddress}: ${(e as Error).message}`,
          { cause: e },
        );
      }
      await sleep(20);
    }
  }
  joining.opened.push(conn);
  const hs = await authenticateAsClient(
    conn,
    token,
    rank,
    `rank ${peer} (at ${peerAddress})`,
    maxFrame,
  );
  if (hs.peerRank !== peer) {
    throw new PeerError(peer, `The process at rank ${peer}'s address claimed rank ${hs.peerRank}`);
  }
  joining.links[peer] = { conn, reader: hs.reader };
}

/** Closes each, ignoring those already closed. */
function closeQuietly(closables: Iterable<{ close(): void } | undefined>): void {
  for (const c of closables) {
    try {
      c?.close();
    } catch { /* closed */ }
  }
}

/** Moves each link's data path to a native socket (all or none). */
function useNativeSockets(links: (PeerLink | undefined)[], required: boolean): void {
  const present = links.filter((link): link is PeerLink => link !== undefined);
  const natives = adoptNativeSockets(present.map((link) => link.conn as Deno.TcpConn));
  if (!natives) {
    if (required) {
      closeQuietly(present.map((link) => link.conn));
      throw new Error("Native socket I/O could not find the connections' descriptors");
    }
    return;
  }
  present.forEach((link, i) => {
    link.conn = natives[i];
    link.reader.source = natives[i];
  });
}
