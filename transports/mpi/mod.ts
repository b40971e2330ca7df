/**
 * MPI through Deno FFI (OpenMPI 4.1 and MPICH 4.0): the MPI transport, the
 * shared MPI session, and launcher helpers.
 *
 * @module
 */

export {
  MPI_TAG_SPACE,
  type MpiTransport,
  type MpiTransportOptions,
  openMpiTransport,
} from "./transport.ts";
export {
  acquireMpi,
  type HandleSource,
  type MpiAbi,
  type MpiAlltoallvArgs,
  type MpiFamily,
  type MpiFunctions,
  type MpiHandle,
  type MpiLibrary,
  type MpiOptions,
  type MpiSession,
} from "./session.ts";
export {
  detectMpiEnvironment,
  type LaunchCommand,
  mpiAvailable,
  type MpiEnvironment,
  mpiLaunchCommand,
  mpiPackages,
} from "./launch.ts";
export { addressOf, PinnedBlock } from "./memory.ts";
export type { Transport, TransportKind, TransportStats } from "../transport.ts";
