// Process and mount helpers shared by the volume harness (index.ts) and the
// private glusterd (glusterd.ts). Internal: not part of glujs's API.
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
export const sleepSync = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
/** A file's text, '' if it cannot be read. */
export const readText = (f: string) => { try { return fs.readFileSync(f, 'utf8'); } catch { return ''; } };
/** The pid in a pid file, 0 if none. */
export const readPid = (pidFile: string) => parseInt(readText(pidFile).trim(), 10) || 0;
/** GLUJS_KEEP=1: keep test directories (logs) after tear-down. */
export const keepEnv = () => process.env.GLUJS_KEEP === '1';

export interface Run { code: number | null; out: string; err: string; }
/** Run a command; never rejects (code null = could not start or timed out). */
export function run(cmd: string, args: string[], timeout: number, env?: NodeJS.ProcessEnv, cwd?: string): Promise<Run> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout, killSignal: 'SIGKILL', env, cwd, maxBuffer: 64 << 20 }, (e, out, err) => {
      const code = e ? (typeof e.code === 'number' ? e.code : null) : 0;
      const spawnErr = e && typeof e.code === 'string' ? e.message : ''; // e.g. ENOENT
      resolve({ code, out: String(out), err: String(err || spawnErr) });
    });
  });
}

/** The daemons' environment: ours, plus GLUJS_DAEMON_PRELOAD / GLUJS_DAEMON_ASAN_OPTIONS
 * (scripts/test-asan.sh uses them to run only the daemons under AddressSanitizer). */
/** Daemons under a sanitizer (GLUJS_DAEMON_PRELOAD, e.g. libasan) run several times slower: waits on them are this much longer. */
export const DAEMON_SLOWDOWN = process.env.GLUJS_DAEMON_PRELOAD ? 3 : 1;

export function daemonEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  if (process.env.GLUJS_DAEMON_PRELOAD) env.LD_PRELOAD = process.env.GLUJS_DAEMON_PRELOAD;
  if (process.env.GLUJS_DAEMON_ASAN_OPTIONS) env.ASAN_OPTIONS = process.env.GLUJS_DAEMON_ASAN_OPTIONS;
  return env;
}

/** Type of the filesystem mounted exactly at `dir`, from /proc/mounts. */
export function mountType(dir: string): string | undefined {
  const unescape = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
  for (const line of readText('/proc/mounts').split('\n')) {
    const f = line.split(' ');
    if (f.length > 2 && unescape(f[1]) === dir) return f[2];
  }
  return undefined;
}

/** Unmount `dir` if something is mounted there: `umount`, then `umount -l` if that fails. */
export async function unmount(dir: string): Promise<void> {
  if (mountType(dir) && (await run('umount', [dir], 10000)).code !== 0 && mountType(dir)) await run('umount', ['-l', dir], 10000);
}

/** argv of a live, non-zombie process ([] if gone). */
export function cmdline(pid: number): string[] {
  if (!(pid > 0)) return [];
  if (/^State:\s+Z/m.test(readText(`/proc/${pid}/status`))) return [];
  return readText(`/proc/${pid}/cmdline`).split('\0').filter(Boolean);
}
/** Is `pid` alive and one of ours: an argument of its command line contains `mark`
 * (the pid file it was told to write, or our directory). */
export const ours = (pid: number, mark: string) => cmdline(pid).some((a) => a.includes(mark));
