/**
 * The connection handshake: each side proves it knows the run's secret with an
 * HMAC-SHA256 over both sides' nonces and ranks. The secret never crosses the wire.
 *
 * @module
 */

import { type ByteReader, type ByteWriter, FrameKind, FrameReader, writeAll } from "./_framing.ts";
import { encodeFrame, MAX_HANDSHAKE_BYTES } from "./_framing.ts";
import { ProtocolError } from "./errors.ts";

/** The rank a non-rank client (the launcher, a store client) presents. */
export const NO_RANK = 0xffff_ffff;

const NONCE_BYTES = 16;
const MAC_BYTES = 32;
const keys = new Map<string, Promise<CryptoKey>>();

function hmacKey(token: string): Promise<CryptoKey> {
  let key = keys.get(token);
  if (!key) {
    key = crypto.subtle.importKey(
      "raw",
      new TextEncoder().encode(token),
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign", "verify"],
    );
    keys.set(token, key);
  }
  return key;
}

function proofInput(role: string, nonceA: Uint8Array, nonceB: Uint8Array, a: number, b: number) {
  const out = new Uint8Array(1 + 2 * NONCE_BYTES + 8);
  out[0] = role.charCodeAt(0);
  out.set(nonceA, 1);
  out.set(nonceB, 1 + NONCE_BYTES);
  const view = new DataView(out.buffer);
  view.setUint32(1 + 2 * NONCE_BYTES, a, true);
  view.setUint32(5 + 2 * NONCE_BYTES, b, true);
  return out;
}

async function sign(token: string, input: Uint8Array<ArrayBuffer>): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.sign("HMAC", await hmacKey(token), input));
}

async function verify(
  token: string,
  mac: Uint8Array,
  input: Uint8Array<ArrayBuffer>,
): Promise<boolean> {
  if (mac.byteLength !== MAC_BYTES) return false;
  return await crypto.subtle.verify("HMAC", await hmacKey(token), mac.slice(), input);
}

async function readHello(reader: FrameReader, want: number): Promise<Uint8Array> {
  const frame = await reader.next();
  if (!frame) throw new ProtocolError(`${reader.from} closed the connection during the handshake`);
  if (frame.kind !== FrameKind.Hello || frame.payload.byteLength !== want) {
    throw new ProtocolError(`${reader.from} sent unexpected bytes during the handshake`);
  }
  return frame.payload;
}

function secretMismatch(from: string): ProtocolError {
  return new ProtocolError(
    `${from} failed to prove the run's secret (is BLSBENCH_TOKEN the same on every rank?)`,
  );
}

/** The outcome of a handshake. */
export interface Handshake {
  /** The rank the other side proved. */
  peerRank: number;
  /** A reader positioned after the handshake, to keep reading frames with. */
  reader: FrameReader;
}

/**
 * Runs the connecting side of the handshake.
 *
 * @example Both sides over a local socket pair
 * ```ts
 * import { authenticateAsClient, authenticateAsServer } from "./_auth.ts";
 * const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const accepted = listener.accept();
 * const client = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
 * const server = await accepted;
 * const [c, s] = await Promise.all([
 *   authenticateAsClient(client, "secret", 1, "rank 0", 1024),
 *   authenticateAsServer(server, "secret", 0, "a client", 1024),
 * ]);
 * if (c.peerRank !== 0 || s.peerRank !== 1) throw new Error("wrong ranks");
 * client.close();
 * server.close();
 * listener.close();
 * ```
 *
 * @param conn The new connection.
 * @param token The run's secret.
 * @param myRank This side's rank (or `NO_RANK`).
 * @param from A name for the other side, for errors.
 * @param maxFrameBytes The frame limit once authenticated.
 * @returns The peer's rank and the frame reader.
 * @throws ProtocolError when the other side cannot prove it knows the secret.
 */
export async function authenticateAsClient(
  conn: ByteReader & ByteWriter,
  token: string,
  myRank: number,
  from: string,
  maxFrameBytes: number,
): Promise<Handshake> {
  const reader = new FrameReader(conn, from, MAX_HANDSHAKE_BYTES);
  const myNonce = crypto.getRandomValues(new Uint8Array(NONCE_BYTES));
  const hello = new Uint8Array(4 + NONCE_BYTES);
  new DataView(hello.buffer).setUint32(0, myRank, true);
  hello.set(myNonce, 4);
  await writeAll(conn, encodeFrame(FrameKind.Hello, 0, hello, myRank));
  // Reply: peer rank, peer nonce, proof over (my nonce, peer nonce).
  const reply = await readHello(reader, 4 + NONCE_BYTES + MAC_BYTES);
  const peerRank = new DataView(reply.buffer, reply.byteOffset).getUint32(0, true);
  const peerNonce = reply.subarray(4, 4 + NONCE_BYTES);
  const ok = await verify(
    token,
    reply.subarray(4 + NONCE_BYTES),
    proofInput("A", myNonce, peerNonce, peerRank, myRank),
  );
  if (!ok) throw secretMismatch(from);
  const proof = await sign(token, proofInput("C", peerNonce, myNonce, myRank, peerRank));
  await writeAll(conn, encodeFrame(FrameKind.Hello, 0, proof, myRank));
  reader.maxLength = maxFrameBytes;
  return { peerRank, reader };
}

/**
 * Runs the accepting side of the handshake.
 *
 * @param conn The accepted connection.
 * @param token The run's secret.
 * @param myRank This side's rank (or `NO_RANK`).
 * @param from A name for the other side, for errors.
 * @param maxFrameBytes The frame limit once authenticated.
 * @returns The peer's rank and the frame reader.
 * @throws ProtocolError when the other side cannot prove it knows the secret.
 */
export async function authenticateAsServer(
  conn: ByteReader & ByteWriter,
  token: string,
  myRank: number,
  from: string,
  maxFrameBytes: number,
): Promise<Handshake> {
  const reader = new FrameReader(conn, from, MAX_HANDSHAKE_BYTES);
  const hello = await readHello(reader, 4 + NONCE_BYTES);
  const peerRank = new DataView(hello.buffer, hello.byteOffset).getUint32(0, true);
  const peerNonce = hello.slice(4);
  const myNonce = crypto.getRandomValues(new Uint8Array(NONCE_BYTES));
  const reply = new Uint8Array(4 + NONCE_BYTES + MAC_BYTES);
  new DataView(reply.buffer).setUint32(0, myRank, true);
  reply.set(myNonce, 4);
  reply.set(
    await sign(token, proofInput("A", peerNonce, myNonce, myRank, peerRank)),
    4 + NONCE_BYTES,
  );
  await writeAll(conn, encodeFrame(FrameKind.Hello, 0, reply, myRank));
  const proof = await readHello(reader, MAC_BYTES);
  const ok = await verify(token, proof, proofInput("C", myNonce, peerNonce, peerRank, myRank));
  if (!ok) throw secretMismatch(from);
  reader.maxLength = maxFrameBytes;
  return { peerRank, reader };
}
