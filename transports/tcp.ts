/**
 * The TCP transport: a full mesh of TCP connections with TCP_NODELAY, one per pair.
 *
 * @module
 */

import { joinMesh, type MeshOptions, type SocketFamily } from "./_mesh.ts";
import type { Transport } from "./transport.ts";

/**
 * The address peers should dial: the listening address, except that a wildcard
 * (`0.0.0.0`, `::`) is not an address another host can dial, so the first
 * non-loopback interface address of the same family is published instead.
 */
function dialable(hostname: string): string {
  if (hostname !== "0.0.0.0" && hostname !== "::") return hostname;
  const family = hostname === "::" ? "IPv6" : "IPv4";
  const nic = Deno.networkInterfaces().find((n) =>
    n.family === family && !n.address.startsWith("127.") && n.address !== "::1" &&
    !n.address.startsWith("fe80:")
  );
  return nic?.address ?? (family === "IPv4" ? "127.0.0.1" : "::1");
}

const tcpFamily: SocketFamily = {
  kind: "tcp",
  listen(options) {
    const listener = Deno.listen({ hostname: options.bind ?? "127.0.0.1", port: 0 });
    const addr = listener.addr as Deno.NetAddr;
    const address = { hostname: dialable(addr.hostname), port: addr.port };
    return { listener, address: JSON.stringify(address) };
  },
  async dial(address) {
    const { hostname, port } = JSON.parse(address);
    const conn = await Deno.connect({ hostname, port });
    // Without it a small frame after another waits for the peer's delayed ACK (~40 ms).
    conn.setNoDelay(true);
    return conn;
  },
  onAccept(conn) {
    (conn as Deno.TcpConn).setNoDelay(true);
  },
  describe(conn) {
    const a = conn.remoteAddr as Deno.NetAddr;
    return `${a.hostname}:${a.port}`;
  },
};

/**
 * Joins a run over TCP.
 *
 * @example Two ranks in one process
 * ```ts
 * import { connectTcp } from "@blsbench/core";
 * import { startRendezvousStore } from "@blsbench/core";
 * const store = await startRendezvousStore({ token: "t" });
 * const opts = { size: 2, token: "t", master: store.address };
 * const [a, b] = await Promise.all([connectTcp({ ...opts, rank: 0 }), connectTcp({ ...opts, rank: 1 })]);
 * await a.send(1, 0, new Uint8Array([42]));
 * const got = await b.recv(0, 0);
 * if (got[0] !== 42) throw new Error("lost");
 * await Promise.all([a.close(), b.close()]);
 * await store.close();
 * ```
 *
 * @param options Rank, size, token, rendezvous address, bind address.
 * @returns The connected transport.
 */
export async function connectTcp(options: MeshOptions): Promise<Transport> {
  return await joinMesh(tcpFamily, options);
}
