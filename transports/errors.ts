/**
 * Errors raised by transports.
 *
 * @module
 */

/** A peer closed, failed or could not be reached. The message names the peer. */
export class PeerError extends Error {
  /** The peer rank this error is about (-1 for the rendezvous store). */
  readonly peer: number;
  /**
   * Creates a peer error.
   *
   * @param peer The peer rank.
   * @param message What happened, naming the peer.
   * @param options The cause.
   */
  constructor(peer: number, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "PeerError";
    this.peer = peer;
  }
}

/** Bytes that break the wire protocol: a bad header, an absurd length, a failed proof. */
export class ProtocolError extends Error {
  /**
   * Creates a protocol error.
   *
   * @param message What was wrong, naming the peer when known.
   */
  constructor(message: string) {
    super(message);
    this.name = "ProtocolError";
  }
}

/** A wait that passed its deadline. */
export class TimeoutError extends Error {
  /**
   * Creates a timeout error.
   *
   * @param message What did not happen in time.
   */
  constructor(message: string) {
    super(message);
    this.name = "TimeoutError";
  }
}
