// Shared bits of glujs's own integration tests.
import path from 'node:path';
import fs from 'node:fs';
import type { Volume, XlatorSpec } from '../lib/testing';

/** Source tree root (tests run from dist/test). */
export const ROOT = path.resolve(__dirname, '..', '..');
export const fixture = (name: string) => path.join(ROOT, 'test', 'fixtures', name);
export const example = (name: string) => path.join(ROOT, 'examples', name);

/** The xlator type under test: scripts/test-asan.sh installs an ASan build as features/glujs-asan. */
export const GLUJS_TYPE = process.env.GLUJS_TYPE || 'features/glujs';
/** How much longer waits are under the sanitizers (npm run test:asan): every daemon is several times slower. */
export { DAEMON_SLOWDOWN as SLOW } from '../lib/testing/proc';

/** A glujs xlator spec for a volfile. */
export function glujs(name: string, module: string, options: Record<string, string | number> = {}): XlatorSpec {
  return { name, type: GLUJS_TYPE, options: { module, ...options } };
}

/** FUSE mount options that let the kernel cache lookups (the kernel tier: README, "The kernel tier"). */
export const KERNEL_TIER = ['--negative-timeout=600', '--entry-timeout=600'];

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The `name=number` lines of a statedump (a glujs instance's under `js.`), by name. */
export function dumpCounters(dump: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of dump.matchAll(/^(?:js\.)?(\w+)=(\d+)$/gm)) out[m[1]] = Number(m[2]);
  return out;
}

/** The counters in client i's statedump, after the runtime's next publication (once a second). */
export async function counters(v: Volume, i: number): Promise<Record<string, number>> {
  await sleep(1100);
  return dumpCounters(await v.statedump(i));
}

/** Polls until fn returns truthy (or throws after timeoutMs). */
export async function until<T>(fn: () => T | undefined | null | false, timeoutMs = 5000, what = 'condition'): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** Whether a pid is alive (a zombie is not: pid 1 may be slow to reap it). */
export function alive(pid: number): boolean {
  try {
    return !/^State:\s+Z/m.test(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

/** The errno code of a failing fs call ('ENOENT', 'EIO', ...), or 'ok'. */
export function errCode(fn: () => unknown): string {
  try { fn(); return 'ok'; } catch (e) { return (e as NodeJS.ErrnoException).code ?? String(e); }
}

/** Lines of a log that mention `needle`. */
export const grep = (text: string, needle: string | RegExp) =>
  text.split('\n').filter((l) => (typeof needle === 'string' ? l.includes(needle) : needle.test(l)));

/** Every entry below dir: type, mode, size and content hash (not nlink: a brick
 * keeps an extra hard link per file under .glusterfs). */
export function readTree(dir: string, skip = new Set(['.glusterfs'])): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string, rel: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      if (!rel && skip.has(e.name)) continue;
      const p = path.join(d, e.name), r = rel ? `${rel}/${e.name}` : e.name;
      const st = fs.lstatSync(p);
      if (e.isSymbolicLink()) out.set(r, `link:${fs.readlinkSync(p)}`);
      else if (e.isDirectory()) { out.set(r, `dir:${(st.mode & 0o7777).toString(8)}`); walk(p, r); }
      else out.set(r, `file:${(st.mode & 0o7777).toString(8)}:${st.size}:${require('node:crypto').createHash('sha1').update(fs.readFileSync(p)).digest('hex')}`);
    }
  };
  walk(dir, '');
  return out;
}

/** A directory tree as "path mtime size" lines, to show that a test left it as it was. */
export function snapshot(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    let st: fs.BigIntStats;
    try { st = fs.lstatSync(d, { bigint: true }); } catch { return; }
    out.push(`${d} ${st.mtimeNs} ${st.size}`);
    if (st.isDirectory()) for (const e of fs.readdirSync(d).sort()) walk(path.join(d, e));
  };
  walk(dir);
  return out;
}
