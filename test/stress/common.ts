// Shared bits of the stress suite (test/stress/*.test.ts). Not a test by itself.
//
// Sizes: the fast mode is the default (part of `npm test`); GLUJS_STRESS=full
// switches every file to the full sizes (scripts/test-stress.sh). With
// GLUJS_WRITE_RESULTS=1 each test appends its figures to bench/results/stress.md.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import { spawn } from 'node:child_process';
import { ROOT, sleep } from '../util';
import { mountType } from '../../lib/testing';

export const FULL = process.env.GLUJS_STRESS === 'full';
export const MODE = FULL ? 'full' : 'fast';
/** `full` when GLUJS_STRESS=full, else `fast`. */
export const pick = <T>(fast: T, full: T): T => (FULL ? full : fast);

export const RESULTS = path.join(ROOT, 'bench', 'results', 'stress.md');

/** Print figures (always, as test diagnostics on stdout) and append them to bench/results/stress.md when
 * GLUJS_WRITE_RESULTS=1. `lines` is markdown. */
export function report(title: string, lines: string[]): void {
  const text = `\n## ${title} (${MODE} mode)\n\n${lines.join('\n')}\n`;
  process.stdout.write(text);
  if (process.env.GLUJS_WRITE_RESULTS === '1') {
    fs.mkdirSync(path.dirname(RESULTS), { recursive: true });
    fs.appendFileSync(RESULTS, text);
  }
}

/** Lines of a GlusterFS log that only a crash writes (gf_print_trace: "pending frames:", one
 * "frame : type(..) op(..)" per frame, "signal received: N", "time of crash:", a backtrace),
 * plus sanitizer reports. */
export const CRASH_RE = /signal received:|pending frames:|frame : type\(|time of crash|^\/[^ ]*\.so[^ ]*\(\+0x|AddressSanitizer|LeakSanitizer|terminate called|Assertion .* failed/;
export const crashLines = (log: string): string[] => log.split('\n').filter((l) => CRASH_RE.test(l));

/** Error lines glujs logged for xlator `name` (`E [...] 0-name: ...`): a failed fop, a throw, a timeout. */
export const glujsErrors = (log: string, name: string): string[] =>
  log.split('\n').filter((l) => /^\[[^\]]*\] [EC] /.test(l) && l.includes(` 0-${name}: `));

export interface ExecResult { code: number | null; signal: string | null; out: string; err: string; ms: number; timedOut: boolean; }

/** Run a command without a shell; never rejects. SIGKILL after `timeoutMs` (timedOut is then true). */
export function exec(cmd: string, args: string[], opts: { timeoutMs?: number; cwd?: string; env?: NodeJS.ProcessEnv; onErr?: (all: string) => void } = {}): Promise<ExecResult> {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '', timedOut = false;
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; opts.onErr?.(err); });
    const timer = opts.timeoutMs ? setTimeout(() => { timedOut = true; child.kill('SIGKILL'); }, opts.timeoutMs) : undefined;
    child.on('error', (e) => { err += String(e); });
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve({ code, signal, out, err, ms: Date.now() - t0, timedOut });
    });
  });
}

/** VmRSS (or another /proc/<pid>/status field) in KiB; NaN if the process is gone. */
export function statusKiB(pid: number, field = 'VmRSS'): number {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : NaN;
  } catch {
    return NaN;
  }
}

/** The process state letter from /proc/<pid>/stat ('R', 'S', 'D', 'Z', ...), or '' if gone. */
export function procState(pid: number): string {
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return s.slice(s.lastIndexOf(')') + 2).split(' ')[0] ?? '';
  } catch {
    return '';
  }
}
/** Gone or a zombie: it has exited. */
export const exited = (pid: number): boolean => { const s = procState(pid); return s === '' || s === 'Z'; };

/** Waits until pid has exited; resolves to the ms it took, or -1 after timeoutMs. */
export async function waitExit(pid: number, timeoutMs: number): Promise<number> {
  const t0 = Date.now();
  while (!exited(pid)) {
    if (Date.now() - t0 > timeoutMs) return -1;
    await sleep(20);
  }
  return Date.now() - t0;
}

/** Whether anything is mounted exactly at dir (/proc/mounts). */
export const mounted = (dir: string): boolean => mountType(dir) !== undefined;

/** sha256 of a file, streamed. */
export function sha256File(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = crypto.createHash('sha256');
    fs.createReadStream(file, { highWaterMark: 1 << 20 }).on('data', (d) => h.update(d)).on('error', reject).on('end', () => resolve(h.digest('hex')));
  });
}

/** Rejects if `p` has not settled after ms (the guard against a hung fop). */
export function guard<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`${what}: no completion within ${ms} ms`)), ms); }),
  ]);
}

/** The text of glujs instance `name`'s section of a statedump ([xlator.<type>.<name>.priv]). */
export function glujsSection(dump: string, name: string): string {
  const lines = dump.split('\n');
  const at = lines.findIndex((l) => l.startsWith('[xlator.') && l.endsWith(`.${name}.priv]`));
  if (at < 0) return '';
  const end = lines.findIndex((l, i) => i > at && (l.startsWith('[') || l.startsWith('DUMP-END')));
  return lines.slice(at + 1, end < 0 ? undefined : end).join('\n');
}

/** Numeric fields of glujs instance `name` in a statedump (fops_to_js, pending, timeouts, js_heap_used, ...). */
export function glujsStats(dump: string, name: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of glujsSection(dump, name).matchAll(/^([\w.]+)=(-?\d+)$/gm)) out[m[1]] = Number(m[2]);
  return out;
}

/** Fops handled by JS, per fop: `fop.<fop>.count=N` (older dumps: `js_fop.<fop>=count:N ...`). */
export function fopCounts(dump: string, name: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of glujsSection(dump, name).matchAll(/^(?:fop\.(\w+)\.count=|js_fop\.(\w+)=count:)(\d+)/gm))
    out[m[1] ?? m[2]] = Number(m[3]);
  return out;
}
export const sumCounts = (c: Record<string, number>) => Object.values(c).reduce((a, b) => a + b, 0);

/** Counters that must be 0 after a clean run (those the dump has): ops still pending or in flight in JS,
 * handler timeouts, late answers, fops refused for backpressure, fops failed by glujs, environment restarts. */
export const HEALTH = ['pending', 'js_ops_in_flight', 'timeouts', 'late_answers', 'refused_busy', 'fops_failed', 'js_restarts'] as const;
export function health(dump: string, name: string): Record<string, number> {
  const s = glujsStats(dump, name);
  return Object.fromEntries(HEALTH.filter((k) => k in s).map((k) => [k, s[k]]));
}
export const healthLine = (h: Record<string, number>) => Object.entries(h).map(([k, v]) => `${k}=${v}`).join(' ');
/** Ops held by JS/glujs right now (pending, else js_ops_in_flight); NaN if the dump has neither. */
export function inFlight(dump: string, name: string): number {
  const s = glujsStats(dump, name);
  return Math.max(s.pending ?? -1, s.js_ops_in_flight ?? -1) >= 0 ? Math.max(s.pending ?? 0, s.js_ops_in_flight ?? 0) : NaN;
}

export { sleep };

/** Host facts for a report header. */
export function hostLine(): string {
  return `kernel ${os.release()}, ${os.cpus().length} CPUs, node ${process.version}, load ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`;
}

/** A small deterministic PRNG, so a failing run can be replayed with its seed. */
export { seededRandom as rng } from '../../lib/testing';

/** Compare two readTree maps; returns up to `max` differences as text. */
export function treeDiff(a: Map<string, string>, b: Map<string, string>, max = 20): string[] {
  const out: string[] = [];
  for (const [k, v] of a) if (b.get(k) !== v) out.push(`${k}: mount ${v} / brick ${b.get(k) ?? '(missing)'}`);
  for (const [k, v] of b) if (!a.has(k)) out.push(`${k}: mount (missing) / brick ${v}`);
  return out.slice(0, max);
}
