import { randomInt } from 'node:crypto';

const CHUNK = 10_000_000_000_000; // 13 digits; randomInt takes ranges below 2^48

/** A correlation id in Zato's format: `K` and 39 decimal digits from the CSPRNG. */
export function newCid(): string {
  let digits = 'K';
  for (let i = 0; i < 3; i++) digits += String(randomInt(CHUNK)).padStart(13, '0');
  return digits;
}

export const CID_FORMAT = /^K\d{39}$/;
