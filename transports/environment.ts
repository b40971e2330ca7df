/**
 * Where a rank learns who it is: flags first, then the environments of the usual
 * launchers (torchrun, OpenMPI, MPICH/PMI, Slurm).
 *
 * @module
 */

import type { Address } from "./rendezvous.ts";

/** A rank's identity in a run. */
export interface RankIdentity {
  /** This rank. */
  rank: number;
  /** The world size. */
  size: number;
  /** Which environment said so (`RANK`, `OMPI`, `PMI`, `SLURM`). */
  source: string;
}

const SOURCES: Array<[string, string, string]> = [
  ["RANK", "WORLD_SIZE", "RANK"],
  ["OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE", "OMPI"],
  ["PMI_RANK", "PMI_SIZE", "PMI"],
  ["SLURM_PROCID", "SLURM_NTASKS", "SLURM"],
];

/**
 * Reads the rank and world size from the environment, if a launcher set them.
 *
 * @example torchrun-style variables
 * ```ts
 * import { rankFromEnvironment } from "@blsbench/core";
 * const id = rankFromEnvironment({ RANK: "1", WORLD_SIZE: "4" });
 * if (id?.rank !== 1 || id.size !== 4) throw new Error("bad");
 * ```
 *
 * @param env The environment (default: the process's).
 * @returns The identity, or undefined when no launcher variables are set.
 * @throws RangeError when the variables are malformed or the rank is out of range.
 */
export function rankFromEnvironment(
  env: Record<string, string | undefined> = Deno.env.toObject(),
): RankIdentity | undefined {
  for (const [rankVar, sizeVar, source] of SOURCES) {
    const r = env[rankVar];
    const s = env[sizeVar];
    if (r === undefined || s === undefined) continue;
    const rank = Number(r);
    const size = Number(s);
    if (!/^\d+$/.test(r) || !/^\d+$/.test(s) || size < 1) {
      throw new RangeError(`Bad ${rankVar}=${r} / ${sizeVar}=${s} in the environment`);
    }
    if (rank >= size) {
      throw new RangeError(`Rank ${rank} is out of range 0..${size - 1} (${rankVar}, ${sizeVar})`);
    }
    return { rank, size, source };
  }
  return undefined;
}

/**
 * Parses `HOST:PORT` (IPv6 in brackets).
 *
 * @example Parse an address
 * ```ts
 * import { parseAddress } from "@blsbench/core";
 * const a = parseAddress("127.0.0.1:29500");
 * if (a.port !== 29500) throw new Error("bad");
 * ```
 *
 * @param text The address.
 * @returns Host and port.
 * @throws SyntaxError when it is not `HOST:PORT`.
 */
export function parseAddress(text: string): Address {
  const m = /^\[?([^\]]*?)\]?:(\d{1,5})$/.exec(text.trim());
  const port = m ? Number(m[2]) : NaN;
  if (!m || !m[1] || port < 1 || port > 65535) {
    throw new SyntaxError(`Expected HOST:PORT, got '${text}'`);
  }
  return { hostname: m[1], port };
}

/**
 * Reads the rendezvous address from `MASTER_ADDR`/`MASTER_PORT`.
 *
 * @example From the environment
 * ```ts
 * import { masterFromEnvironment } from "@blsbench/core";
 * const a = masterFromEnvironment({ MASTER_ADDR: "10.0.0.1", MASTER_PORT: "29500" });
 * if (a?.hostname !== "10.0.0.1") throw new Error("bad");
 * ```
 *
 * @param env The environment.
 * @returns The address, or undefined.
 */
export function masterFromEnvironment(
  env: Record<string, string | undefined> = Deno.env.toObject(),
): Address | undefined {
  const host = env.MASTER_ADDR;
  const port = env.MASTER_PORT;
  if (!host || !port) return undefined;
  return parseAddress(`${host.includes(":") ? `[${host}]` : host}:${port}`);
}
