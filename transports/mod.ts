/**
 * Transports: tag-matched point-to-point messaging between ranks (TCP, Unix
 * sockets, MPI), the rendezvous store and rank discovery.
 *
 * @module
 */
export * from "./transport.ts";
export * from "./errors.ts";
export * from "./tcp.ts";
export * from "./unix.ts";
export * from "./open.ts";
export * from "./rendezvous.ts";
export * from "./environment.ts";
export type { MeshOptions, SocketIo } from "./_mesh.ts";
export * from "./deadline.ts";
