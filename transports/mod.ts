/**
 * Transports: tag-matched point-to-point messaging between ranks.
 *
 * @module
 */
export * from "./transport.ts";
