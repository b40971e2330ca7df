/**
 * How the collectives move one block: received into an arena when they have
 * one (straight from the socket where the transport can), sent in place when
 * the block has room for a frame header in front of it.
 *
 * @module
 */

import { FRAME_HEADROOM, type Transport } from "../transports/transport.ts";
import type { IterationArena } from "./arena.ts";

/**
 * Receives the block of `iter` from `from`: into `arena` when given, else as
 * the transport's own buffer.
 *
 * @param transport The transport.
 * @param from The sender.
 * @param tag The tag.
 * @param iter The iteration (which arena slot).
 * @param arena Where received blocks go, if anywhere.
 * @returns The block.
 */
export function receiveBlock(
  transport: Transport,
  from: number,
  tag: number,
  iter: number,
  arena: IterationArena | undefined,
): Promise<Uint8Array> {
  if (!arena) return transport.recv(from, tag);
  const into = (length: number) => arena.alloc(iter, length);
  if (transport.recvInto) return transport.recvInto(from, tag, into);
  return transport.recv(from, tag).then((data) => {
    const dst = into(data.byteLength);
    dst.set(data);
    return dst;
  });
}

/**
 * Sends one block; with `headroom`, the block is a view with `FRAME_HEADROOM`
 * writable bytes before it in its buffer, and a transport that frames in place
 * writes header and block in one write.
 *
 * @param transport The transport.
 * @param to The receiver.
 * @param tag The tag.
 * @param block The block.
 * @param headroom Whether the block has header room in front of it.
 * @returns When the block is handed over.
 */
export function sendBlock(
  transport: Transport,
  to: number,
  tag: number,
  block: Uint8Array,
  headroom: boolean,
): Promise<void> {
  if (headroom && transport.sendFramed && block.byteOffset >= FRAME_HEADROOM) {
    const framed = new Uint8Array(
      block.buffer,
      block.byteOffset - FRAME_HEADROOM,
      block.byteLength + FRAME_HEADROOM,
    );
    return transport.sendFramed(to, tag, framed);
  }
  return transport.send(to, tag, block);
}
