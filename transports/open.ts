/**
 * Opening a transport by name, and groups of ranks inside one process.
 *
 * @module
 */

import type { MeshOptions } from "./_mesh.ts";
import { startRendezvousStore } from "./rendezvous.ts";
import { connectTcp } from "./tcp.ts";
import type { Transport, TransportKind } from "./transport.ts";
import { connectUnix } from "./unix.ts";

/** Options for `openTransport`: the mesh options plus MPI's library family. */
export interface OpenOptions extends MeshOptions {
  /** Which MPI library (`--mpi`), for the mpi transport. */
  mpi?: "openmpi" | "mpich";
  /**
   * For the mpi transport: control exchanges happen only between collectives,
   * so a control tag cancels receives still waiting for collective tags
   * (`MpiTransportOptions.cancelOnControl`).
   */
  cancelOnControl?: boolean;
}

/**
 * Opens a transport of the given kind. Options are plain data, so a Worker can
 * receive them and open the transport itself.
 *
 * @example Open a one-rank TCP transport
 * ```ts
 * import { openTransport } from "@blsbench/core";
 * const t = await openTransport("tcp", { rank: 0, size: 1, token: "t", master: { hostname: "127.0.0.1", port: 1 } });
 * await t.close();
 * ```
 *
 * @param kind `tcp`, `unix` or `mpi`.
 * @param options How to join the run.
 * @returns The transport.
 */
export async function openTransport(kind: TransportKind, options: OpenOptions): Promise<Transport> {
  switch (kind) {
    case "tcp":
      return await connectTcp(options);
    case "unix":
      return await connectUnix(options);
    case "mpi": {
      const mpi = await import("./mpi/mod.ts");
      return await mpi.openMpiTransport({
        family: options.mpi,
        cancelOnControl: options.cancelOnControl,
      });
    }
    default:
      throw new TypeError(`Unknown transport '${kind}'`);
  }
}

/** A group of ranks living in one process, with its own rendezvous store. */
export interface LocalGroup {
  /** One transport per rank. */
  transports: Transport[];
  /** Closes every transport and the store. */
  close(): Promise<void>;
}

/**
 * Connects `size` ranks inside this process over real sockets: handy for tests
 * and for trying collectives without a launcher.
 *
 * @example Four ranks over Unix sockets
 * ```ts
 * import { connectLocalGroup } from "@blsbench/core";
 * const group = await connectLocalGroup("unix", 4);
 * await group.transports[3].send(0, 1, new Uint8Array([9]));
 * if ((await group.transports[0].recv(3, 1))[0] !== 9) throw new Error("lost");
 * await group.close();
 * ```
 *
 * @param kind `tcp` or `unix`.
 * @param size The number of ranks.
 * @param options Extra mesh options (frame limit, timeout).
 * @returns The group.
 */
export async function connectLocalGroup(
  kind: "tcp" | "unix",
  size: number,
  options: Partial<MeshOptions> = {},
): Promise<LocalGroup> {
  const token = crypto.randomUUID();
  const store = await startRendezvousStore({ token });
  try {
    const transports = await Promise.all(
      Array.from(
        { length: size },
        (_, rank) => openTransport(kind, { ...options, rank, size, token, master: store.address }),
      ),
    );
    return {
      transports,
      async close() {
        await Promise.all(transports.map((t) => t.close()));
        await store.close();
      },
    };
  } catch (e) {
    await store.close();
    throw e;
  }
}
