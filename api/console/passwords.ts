import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { z } from 'zod';

/**
 * Console passwords, hashed with Node's scrypt (memory-hard, in the standard library: no native add-on to build).
 * Stored as `scrypt$<N>$<r>$<p>$<salt>$<hash>` (base64), so that a later cost change still verifies old hashes.
 */

const N = 16_384; // 2^14 × r 8 = 16 MiB a hash, ~40 ms here: slow for a guesser, quick for a person signing in
const R = 8;
const P = 1;
const KEY_LENGTH = 32;

/** What an admin may set: 12 to 200 characters, not only spaces. */
export const passwordSchema = z
  .string()
  .min(12, 'at least 12 characters')
  .max(200, 'at most 200 characters')
  .refine((p) => p.trim().length > 0, 'not only spaces');

function derive(password: string, salt: Buffer, keyLength: number, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password.normalize('NFC'), salt, keyLength, { ...options, maxmem: 64 * 1024 * 1024 }, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, KEY_LENGTH, { N, r: R, p: P });
  return `scrypt$${N}$${R}$${P}$${salt.toString('base64')}$${key.toString('base64')}`;
}

/** A hash any password is checked against when the user has none: both paths take the same time. */
let decoy: Promise<string> | undefined;

/** True when `password` matches `stored` (constant-time); false for a malformed or absent hash, after the same work. */
export async function verifyPassword(password: string, stored: string | null | undefined): Promise<boolean> {
  const parts = (stored ?? '').split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') {
    decoy ??= hashPassword(randomBytes(16).toString('hex'));
    await verifyPassword(password, await decoy);
    return false;
  }
  const [, n, r, p, salt, hash] = parts as [string, string, string, string, string, string];
  const expected = Buffer.from(hash, 'base64');
  const actual = await derive(password, Buffer.from(salt, 'base64'), expected.length, { N: Number(n), r: Number(r), p: Number(p) });
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** A password for a reset: 20 characters of an unambiguous alphabet, shown once. */
export function generatePassword(): string {
  const alphabet = 'abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789';
  let out = '';
  while (out.length < 20) for (const b of randomBytes(32)) if (b < 224 && out.length < 20) out += alphabet[b % 56]; // 224 = 4 × 56
  return out;
}
