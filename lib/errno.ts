import { constants } from 'node:os';

/** An errno name known to this platform ('ENOENT', 'EACCES', ...). */
export type ErrnoName = keyof typeof constants.errno;

/** The errno number for a name or number; throws a TypeError for anything else. */
export function errnoOf(e: number | string): number {
  if (typeof e === 'number' && Number.isInteger(e) && e > 0 && e < 4096) return e;
  if (typeof e === 'string' && Object.prototype.hasOwnProperty.call(constants.errno, e))
    return (constants.errno as Record<string, number>)[e];
  throw new TypeError(`not an errno: ${String(e)} (use a positive number or a name such as 'ENOENT')`);
}

/** The name of an errno number ('ENOENT'), or the number as text. */
export function errnoName(n: number): string {
  for (const [k, v] of Object.entries(constants.errno)) if (v === n) return k;
  return String(n);
}
