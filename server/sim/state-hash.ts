/**
 * FNV-1a hashing of integers, used for state and trajectory hashes.
 *
 * @module
 */

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/**
 * Mixes a 32-bit integer (its four bytes) into an FNV-1a hash.
 *
 * @param h - the running hash
 * @param v - an integer (low 32 bits used)
 * @returns the new unsigned 32-bit hash
 */
export function fnvMix(h: number, v: number): number {
  let x = Math.imul(h ^ (v & 0xff), FNV_PRIME);
  x = Math.imul(x ^ ((v >>> 8) & 0xff), FNV_PRIME);
  x = Math.imul(x ^ ((v >>> 16) & 0xff), FNV_PRIME);
  x = Math.imul(x ^ ((v >>> 24) & 0xff), FNV_PRIME);
  return x >>> 0;
}

/** @returns the FNV-1a hash of one integer */
export function fnv1a(v: number): number {
  return fnvMix(FNV_OFFSET, v);
}

/** @returns a hash as 8 lowercase hex digits */
export function hashHex(h: number): string {
  return (h >>> 0).toString(16).padStart(8, '0');
}
