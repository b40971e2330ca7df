/**
 * Rendezvous: a small key-value store where ranks publish their addresses and
 * find each other's. Hosted by the launcher or by rank 0; every connection to it
 * must prove it knows the run's secret before any request is served.
 *
 * @module
 */

import { authenticateAsClient, authenticateAsServer, NO_RANK } from "./_auth.ts";
import { encodeFrame, FrameKind, type FrameReader, writeAll } from "./_framing.ts";
import { sleep, withTimeout } from "./deadline.ts";
import { PeerError, ProtocolError } from "./errors.ts";

const STORE_FRAME_BYTES = 1 << 20;
const HANDSHAKE_TIMEOUT_MS = 5_000;

/** A host and port. */
export interface Address {
  /** Host name or IP address. */
  hostname: string;
  /** TCP port. */
  port: number;
}

/** A running rendezvous store. */
export interface RendezvousStore {
  /** Where the store listens. */
  readonly address: Address;
  /** Connections dropped because they failed the handshake. */
  readonly rejected: number;
  /** Stops the store and closes its connections. */
  close(): Promise<void>;
}

/** Options of `startRendezvousStore`. */
export interface StoreOptions {
  /** The run's secret. */
  token: string;
  /** Address to listen on (default 127.0.0.1). */
  hostname?: string;
  /** Port (default 0: any free port). */
  port?: number;
  /** Where to log dropped connections (default: stderr). */
  log?: (message: string) => void;
}

interface StoreRequest {
  id: number;
  op: "set" | "get";
  key: string;
  value?: string;
}

function parseRequest(payload: Uint8Array, from: string): StoreRequest {
  let req: unknown;
  try {
    req = JSON.parse(new TextDecoder().decode(payload));
  } catch {
    throw new ProtocolError(`Bad request from ${from}: not JSON`);
  }
  const r = req as Partial<StoreRequest>;
  if (
    typeof r !== "object" || r === null || typeof r.id !== "number" ||
    (r.op !== "set" && r.op !== "get") || typeof r.key !== "string" ||
    (r.value !== undefined && typeof r.value !== "string")
  ) {
    throw new ProtocolError(`Bad request from ${from}`);
  }
  return r as StoreRequest;
}

/**
 * Starts a rendezvous store.
 *
 * @example Publish and look up an address
 * ```ts
 * import { RendezvousClient, startRendezvousStore } from "@blsbench/core/transports";
 * const store = await startRendezvousStore({ token: "secret" });
 * const a = await RendezvousClient.connect(store.address, "secret", 0);
 * await a.set("addr/0", "127.0.0.1:5000");
 * if ((await a.get("addr/0")) !== "127.0.0.1:5000") throw new Error("lost");
 * a.close();
 * await store.close();
 * ```
 *
 * @param options Token and address.
 * @returns The running store.
 */
export function startRendezvousStore(options: StoreOptions): Promise<RendezvousStore> {
  const listener = Deno.listen({
    hostname: options.hostname ?? "127.0.0.1",
    port: options.port ?? 0,
  });
  const log = options.log ?? ((m: string) => console.error(m));
  const values = new Map<string, string>();
  const waiters = new Map<string, Array<(v: string) => void>>();
  const conns = new Set<Deno.Conn>();
  let rejected = 0;
  let closing = false;

  const serve = async (conn: Deno.Conn) => {
    conns.add(conn);
    const remote = conn.remoteAddr as Deno.NetAddr;
    const from = `${remote.hostname}:${remote.port}`;
    let reader: FrameReader;
    try {
      ({ reader } = await withTimeout(
        authenticateAsServer(conn, options.token, NO_RANK, from, STORE_FRAME_BYTES),
        HANDSHAKE_TIMEOUT_MS,
        `${from} did not finish the handshake in time`,
      ));
    } catch (e) {
      rejected++;
      if (!closing) log(`rendezvous: dropped a connection from ${from}: ${(e as Error).message}`);
      conns.delete(conn);
      try {
        conn.close();
      } catch { /* already closed */ }
      return;
    }
    const reply = (id: number, value: string) =>
      writeAll(
        conn,
        encodeFrame(
          FrameKind.StoreReply,
          0,
          new TextEncoder().encode(JSON.stringify({ id, value })),
        ),
      ).catch(() => {});
    try {
      for (let frame = await reader.next(); frame; frame = await reader.next()) {
        if (frame.kind !== FrameKind.StoreRequest) {
          throw new ProtocolError(`Bad request from ${from}`);
        }
        const req = parseRequest(frame.payload, from);
        if (req.op === "set" && typeof req.value === "string") {
          values.set(req.key, req.value);
          for (const w of waiters.get(req.key) ?? []) w(req.value);
          waiters.delete(req.key);
          reply(req.id, req.value);
        } else if (req.op === "get") {
          const v = values.get(req.key);
          if (v !== undefined) reply(req.id, v);
          else {
            const list = waiters.get(req.key) ?? [];
            list.push((value) => reply(req.id, value));
            waiters.set(req.key, list);
          }
        } else throw new ProtocolError(`Bad request from ${from}`);
      }
    } catch (e) {
      if (!(e instanceof Deno.errors.BadResource || e instanceof Deno.errors.Interrupted)) {
        log(`rendezvous: closed the connection from ${from}: ${(e as Error).message}`);
      }
    } finally {
      conns.delete(conn);
      try {
        conn.close();
      } catch { /* already closed */ }
    }
  };

  const acceptLoop = (async () => {
    try {
      for await (const conn of listener) serve(conn);
    } catch { /* listener closed */ }
  })();

  const addr = listener.addr as Deno.NetAddr;
  return Promise.resolve({
    address: { hostname: addr.hostname, port: addr.port },
    get rejected() {
      return rejected;
    },
    async close() {
      closing = true;
      try {
        listener.close();
      } catch { /* already closed */ }
      for (const c of conns) {
        try {
          c.close();
        } catch { /* already closed */ }
      }
      await acceptLoop;
    },
  });
}

/** A connection to the rendezvous store. */
export class RendezvousClient {
  #conn: Deno.Conn;
  #reader: FrameReader;
  #nextId = 1;
  #pending = new Map<number, { resolve(v: string): void; reject(e: Error): void }>();
  #closed = false;

  private constructor(conn: Deno.Conn, reader: FrameReader) {
    this.#conn = conn;
    this.#reader = reader;
    this.#readLoop();
  }

  /**
   * Connects to the store, retrying until `timeoutMs` passes (the store may not
   * be up yet), and proves the run's secret.
   *
   * @example Connect
   * ```ts
   * import { RendezvousClient, startRendezvousStore } from "./rendezvous.ts";
   * const store = await startRendezvousStore({ token: "t" });
   * const client = await RendezvousClient.connect(store.address, "t", 0);
   * client.close();
   * await store.close();
   * ```
   *
   * @param address The store's address.
   * @param token The run's secret.
   * @param rank This rank (or any id).
   * @param timeoutMs How long to keep trying.
   * @returns The client.
   */
  static async connect(
    address: Address,
    token: string,
    rank: number,
    timeoutMs = 30_000,
  ): Promise<RendezvousClient> {
    const deadline = Date.now() + timeoutMs;
    const where = `the rendezvous store at ${address.hostname}:${address.port}`;
    for (;;) {
      let conn: Deno.TcpConn | undefined;
      try {
        conn = await Deno.connect({ hostname: address.hostname, port: address.port });
        conn.setNoDelay(true);
        const { reader } = await withTimeout(
          authenticateAsClient(conn, token, rank, where, STORE_FRAME_BYTES),
          Math.max(1, deadline - Date.now()),
          `${where} did not finish the handshake`,
        );
        return new RendezvousClient(conn, reader);
      } catch (e) {
        try {
          conn?.close();
        } catch { /* closed */ }
        if (e instanceof ProtocolError) throw new PeerError(-1, e.message, { cause: e });
        if (Date.now() >= deadline) {
          throw new PeerError(-1, `Could not reach ${where}: ${(e as Error).message}`, {
            cause: e,
          });
        }
        await sleep(50);
      }
    }
  }

  async #readLoop() {
    let error: Error = new PeerError(-1, "The rendezvous store closed the connection");
    try {
      for (let f = await this.#reader.next(); f; f = await this.#reader.next()) {
        const { id, value } = JSON.parse(new TextDecoder().decode(f.payload));
        this.#pending.get(id)?.resolve(value);
        this.#pending.delete(id);
      }
    } catch (e) {
      if (!this.#closed) error = new PeerError(-1, `Rendezvous store: ${(e as Error).message}`);
    }
    for (const p of this.#pending.values()) p.reject(error);
    this.#pending.clear();
  }

  #request(op: "set" | "get", key: string, value?: string): Promise<string> {
    const id = this.#nextId++;
    const body = new TextEncoder().encode(JSON.stringify({ id, op, key, value }));
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      writeAll(this.#conn, encodeFrame(FrameKind.StoreRequest, 0, body)).catch(reject);
    });
  }

  /**
   * Stores a value.
   *
   * @param key The key.
   * @param value The value.
   */
  async set(key: string, value: string): Promise<void> {
    await this.#request("set", key, value);
  }

  /**
   * Gets a value, waiting until some client sets it.
   *
   * @param key The key.
   * @param timeoutMs How long to wait.
   * @returns The value.
   */
  get(key: string, timeoutMs = Infinity): Promise<string> {
    return withTimeout(this.#request("get", key), timeoutMs, `Timed out waiting for '${key}'`);
  }

  /** Closes the connection. */
  close(): void {
    this.#closed = true;
    try {
      this.#conn.close();
    } catch { /* closed */ }
  }
}
