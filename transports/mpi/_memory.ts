/**
 * Long-lived memory whose address is read once, so that FFI calls pass plain
 * `usize` addresses (V8's fast call path) instead of buffers.
 *
 * @module
 */

/** The address of a view's first byte as a BigInt (0n for an empty view). */
export function addressOf(view: ArrayBufferView): bigint {
  if (view.byteLength === 0) return 0n;
  return Deno.UnsafePointer.value(Deno.UnsafePointer.of(view as Uint8Array<ArrayBuffer>));
}

/** A block of memory with its address cached, and typed accessors. */
export class PinnedBlock {
  /** The bytes; kept referenced so that the address stays valid. */
  readonly bytes: Uint8Array<ArrayBuffer>;
  /** Little-endian accessors over the same bytes. */
  readonly view: DataView;
  /** The address of byte 0. */
  readonly base: bigint;

  /**
   * Allocates a zeroed block.
   *
   * @param byteLength The size in bytes (at least 1).
   */
  constructor(byteLength: number) {
    this.bytes = new Uint8Array(Math.max(8, byteLength));
    this.view = new DataView(this.bytes.buffer);
    this.base = addressOf(this.bytes);
  }

  /** The address of byte `offset`. */
  at(offset: number): bigint {
    return this.base + BigInt(offset);
  }
}
