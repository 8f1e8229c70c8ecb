/**
 * What glujs agrees to load into a daemon that runs as root: sshd's StrictModes
 * for translator modules, and a transpile cache nobody else can write.
 *
 * A module, and every file it loads (imports, requires, JSON, addons), is
 * refused when the file or any directory above it is owned by someone other
 * than root or the module's owner, or is writable by group or others. A
 * directory writable by others with the sticky bit (/tmp) is accepted: there
 * nobody else may rename or replace what is in it, and the entries below it are
 * checked in turn. Symbolic links are checked on both paths: the one named and
 * the one they resolve to.
 * @packageDocumentation
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** Thrown when a file may not be loaded; the message says which path and why. */
export class UntrustedError extends Error {
  constructor(message: string) { super(message); this.name = 'UntrustedError'; }
}

const checked = new Map<string, string | null>(); // path + owners -> why it is refused (null: fine)

function why(p: string, st: fs.Stats, owners: ReadonlySet<number>): string | null {
  if (!owners.has(st.uid)) return `${p} is owned by uid ${st.uid} (only ${[...owners].join(' or ')} may own it)`;
  const sticky = st.isDirectory() && (st.mode & 0o1000) !== 0;
  if ((st.mode & 0o022) !== 0 && !sticky) {
    const who = (st.mode & 0o002) ? 'anyone' : `group ${st.gid}`;
    return `${p} is writable by ${who} (mode ${(st.mode & 0o7777).toString(8)})`;
  }
  return null;
}

/** The reason `p` and the directories above it are unsafe, or null. */
function chain(p: string, owners: ReadonlySet<number>): string | null {
  const key = `${[...owners].join(',')}:${p}`;
  const hit = checked.get(key);
  if (hit !== undefined) return hit;
  let reason: string | null;
  let st: fs.Stats;
  try { st = fs.lstatSync(p); } catch (e) { reason = `${p}: ${(e as Error).message}`; checked.set(key, reason); return reason; }
  // a symlink's own mode means nothing; who may replace it is its directory's matter
  reason = st.isSymbolicLink() ? null : why(p, st, owners);
  const parent = path.dirname(p);
  if (!reason && parent !== p) reason = chain(parent, owners);
  checked.set(key, reason);
  return reason;
}

/**
 * Throws {@link UntrustedError} unless `file` may be loaded: it and every
 * directory above it, on the named path and on the real one, are owned by root
 * (or `ownerUid`, the translator module's owner) and not writable by others.
 */
export function checkTrusted(file: string, ownerUid: number): void {
  const owners = new Set([0, ownerUid, process.getuid?.() ?? 0]);
  const abs = path.resolve(file);
  let real = abs;
  try { real = fs.realpathSync(abs); } catch { /* a missing file is the loader's error */ }
  for (const p of real === abs ? [abs] : [abs, real]) {
    const reason = chain(p, owners);
    if (reason) throw new UntrustedError(`refusing to load ${abs}: ${reason} (glujs runs modules as the daemon's user; fix the owner or mode)`);
  }
}

/** Forget what was checked (a reload checks again). */
export function forgetChecks(): void { checked.clear(); }

/**
 * The transpile cache's directory: `$GLUJS_CACHE_DIR`, else /var/cache/glujs
 * for root and ~/.cache/glujs for anyone else. It is created 0700 and used only
 * while it is a real directory owned by this process's user with no access for
 * group or others; otherwise `warn` is told once and nothing is cached.
 */
export function cacheDir(warn: (msg: string) => void): string | null {
  const uid = process.getuid?.() ?? 0;
  const dir = process.env.GLUJS_CACHE_DIR || (uid === 0 ? '/var/cache/glujs' : path.join(os.homedir(), '.cache', 'glujs'));
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const st = fs.lstatSync(dir);
    const bad = !st.isDirectory() ? 'is not a directory' : st.uid !== uid ? `is owned by uid ${st.uid}, not ${uid}`
      : (st.mode & 0o077) ? `has mode ${(st.mode & 0o777).toString(8)} (0700 expected)` : '';
    if (bad) { warnOnce(warn, `transpile cache ${dir} ${bad}: not used`); return null; }
    return dir;
  } catch (e) {
    warnOnce(warn, `transpile cache ${dir}: ${(e as Error).message}: not used`);
    return null;
  }
}

/** A cached entry may be used: a regular file of ours, writable by nobody else. */
export function trustedEntry(file: string, warn: (msg: string) => void): boolean {
  let st: fs.Stats;
  try { st = fs.lstatSync(file); } catch { return false; }
  const uid = process.getuid?.() ?? 0;
  if (st.isFile() && st.uid === uid && (st.mode & 0o022) === 0) return true;
  warnOnce(warn, `transpile cache entry ${file} ignored: ${!st.isFile() ? 'not a regular file' : st.uid !== uid ? `owned by uid ${st.uid}` : `mode ${(st.mode & 0o777).toString(8)}`}`);
  return false;
}

const warned = new Set<string>();
function warnOnce(warn: (msg: string) => void, msg: string): void {
  if (warned.has(msg)) return;
  warned.add(msg);
  warn(msg);
}
