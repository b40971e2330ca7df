/**
 * One entry point from a lag to the right alltoallv.
 *
 * @module
 */

import type { Transport } from "../transports/transport.ts";
import type { Alltoallv, CollectiveOptions } from "./alltoallv.ts";
import { BlsAlltoallv } from "./bls.ts";
import { SyncAlltoallv } from "./sync.ts";

/** Options of `createAlltoallv`: the lag bound and the options every collective takes. */
export interface AlltoallvOptions extends CollectiveOptions {
  /** The lag bound k >= 0: 0 is the synchronous alltoallv, k > 0 BLS. */
  lag: number;
}

/**
 * Creates the alltoallv for a lag bound: the synchronous pairwise exchange for
 * lag 0, BLS for lag k > 0. Two collectives on one transport need disjoint tag
 * ranges (`tagBase`); the communicator (`openComm`) hands them out.
 *
 * @example Lag 0 and lag 2 over one group, on separate tags
 * ```ts
 * import { connectLocalGroup, createAlltoallv } from "@blsbench/core";
 * const group = await connectLocalGroup("tcp", 2);
 * for (const [lag, tagBase] of [[0, 0], [2, 100]]) {
 *   const colls = group.transports.map((t) => createAlltoallv(t, { lag, tagBase }));
 *   for (let i = 0; i < 4; i++) {
 *     await Promise.all(colls.map((c) => c.exchange([new Uint8Array([i]), new Uint8Array([i])])));
 *   }
 *   const rest = await Promise.all(colls.map((c) => c.drain()));
 *   if (rest[0].length !== lag) throw new Error("the drain returns the last lag iterations");
 * }
 * await group.close();
 * ```
 *
 * @param transport The transport (used for nothing else under these tags).
 * @param options The lag and the collective's options.
 * @returns The collective.
 * @throws RangeError for a lag that is not a whole number >= 0.
 */
export function createAlltoallv(transport: Transport, options: AlltoallvOptions): Alltoallv {
  const { lag, ...rest } = options;
  if (!Number.isInteger(lag) || lag < 0) {
    throw new RangeError(`Lag must be a whole number >= 0, got ${lag}`);
  }
  return lag === 0 ? new SyncAlltoallv(transport, rest) : new BlsAlltoallv(transport, options);
}
