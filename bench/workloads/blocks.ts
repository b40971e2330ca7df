/**
 * Block contents for `--validate`: every byte is derived from (iteration,
 * source, destination), so a receiver can check what it got without being told.
 *
 * @module
 */

function blockSeed(iter: number, src: number, dst: number): number {
  let h = Math.imul(iter ^ 0x27d4eb2d, 0x9e3779b1) ^ Math.imul(src + 1, 0x85ebca6b) ^
    Math.imul(dst + 1, 0xc2b2ae35);
  h ^= h >>> 15;
  return Math.imul(h, 0x2c1b3c6d) >>> 0;
}

/**
 * Fills a block with the pattern of (iter, src, dst).
 *
 * @example Fill and check
 * ```ts
 * import { checkBlock, fillBlock } from "./blocks.ts";
 * const b = fillBlock(new Uint8Array(100), 3, 0, 1);
 * if (checkBlock(b, 3, 0, 1) !== -1) throw new Error("mismatch");
 * ```
 *
 * @param block The block to fill.
 * @param iter The iteration.
 * @param src The sending rank.
 * @param dst The receiving rank.
 * @returns The block.
 */
export function fillBlock(block: Uint8Array, iter: number, src: number, dst: number): Uint8Array {
  let x = blockSeed(iter, src, dst) | 1;
  const n = block.length;
  const words = n >>> 2;
  if ((block.byteOffset & 3) === 0 && words > 0) {
    const w = new Uint32Array(block.buffer, block.byteOffset, words);
    for (let i = 0; i < words; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      w[i] = x;
    }
    for (let i = words * 4; i < n; i++) block[i] = (x >>> ((i & 3) * 8)) & 0xff;
  } else {
    for (let i = 0; i < n; i += 4) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      for (let j = 0; j < 4 && i + j < n; j++) block[i + j] = (x >>> (j * 8)) & 0xff;
    }
  }
  return block;
}

/**
 * Checks a block against the pattern of (iter, src, dst).
 *
 * @example Detect a flipped byte
 * ```ts
 * import { checkBlock, fillBlock } from "./blocks.ts";
 * const b = fillBlock(new Uint8Array(64), 0, 1, 2);
 * b[10] ^= 1;
 * if (checkBlock(b, 0, 1, 2) !== 10) throw new Error("missed it");
 * ```
 *
 * @param block The received block.
 * @param iter The iteration.
 * @param src The sending rank.
 * @param dst The receiving rank.
 * @returns -1 when it matches, else the first bad byte offset.
 */
export function checkBlock(block: Uint8Array, iter: number, src: number, dst: number): number {
  const expected = fillBlock(new Uint8Array(block.length), iter, src, dst);
  for (let i = 0; i < block.length; i++) if (block[i] !== expected[i]) return i;
  return -1;
}
