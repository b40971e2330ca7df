/**
 * The Unix domain socket transport: the TCP transport's mesh and framing over
 * local stream sockets (one machine only).
 *
 * @module
 */

import { joinMesh, type MeshOptions, type SocketFamily } from "./_mesh.ts";
import type { Transport } from "./transport.ts";

function socketDir(): string {
  return Deno.env.get("BLSBENCH_SOCKET_DIR") ?? Deno.env.get("TMPDIR") ?? "/tmp";
}

const unixFamily: SocketFamily = {
  kind: "unix",
  listen(options) {
    const path = `${socketDir()}/blsbench-${crypto.randomUUID().slice(0, 12)}-${options.rank}.sock`;
    const listener = Deno.listen({ transport: "unix", path });
    const cleanup = () => {
      try {
        Deno.removeSync(path);
      } catch { /* gone */ }
    };
    return { listener, address: JSON.stringify({ path }), cleanup };
  },
  dial(address) {
    const { path } = JSON.parse(address);
    return Deno.connect({ transport: "unix", path });
  },
  describe() {
    return "a local socket";
  },
};

/**
 * Joins a run over Unix domain sockets. The rendezvous store is still reached
 * over TCP (loopback).
 *
 * @example Two ranks in one process
 * ```ts
 * import { connectUnix } from "@blsbench/core";
 * import { startRendezvousStore } from "@blsbench/core";
 * const store = await startRendezvousStore({ token: "t" });
 * const opts = { size: 2, token: "t", master: store.address };
 * const [a, b] = await Promise.all([connectUnix({ ...opts, rank: 0 }), connectUnix({ ...opts, rank: 1 })]);
 * await b.send(0, 5, new Uint8Array([7]));
 * if ((await a.recv(1, 5))[0] !== 7) throw new Error("lost");
 * await Promise.all([a.close(), b.close()]);
 * await store.close();
 * ```
 *
 * @param options Rank, size, token, rendezvous address.
 * @returns The connected transport.
 */
export async function connectUnix(options: MeshOptions): Promise<Transport> {
  return await joinMesh(unixFamily, options);
}
