// Tear-down for both harnesses (index.ts: a standalone volume; glusterd.ts: a private
// glusterd). Each describes what it started as an Owned; one order undoes it, at stop()
// or, when the process ends first, at exit or on SIGINT/SIGTERM/SIGHUP. Daemons are
// stopped by pid (their pid files, checked in /proc), never by process name.
// Internal: not part of glujs's API.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { keepEnv, mountType, ours, readPid, sleep, sleepSync, unmount } from './proc';

/** A daemon we started, known by the pid file it was told to write. */
export interface Daemon {
  pidFile: string;
  /** its pid; 0 until read from pidFile */
  pid: number;
  /** what its command line must contain for it to be ours (default: its pid file) */
  mark?: string;
  /** as one of an Owned's servers: how long it may take to exit by itself before SIGTERM (default 0) */
  graceMs?: number;
}

/** True while `d` runs and really is ours (a zombie has no command line). */
export function running(d: Daemon): boolean {
  if (!d.pid) d.pid = readPid(d.pidFile);
  return ours(d.pid, d.mark ?? d.pidFile);
}

const TERM_MS = 5000, KILL_MS = 2000, POLL_MS = 20;
/** The mounts' clients exit by themselves on unmount: this long before SIGTERM. */
const CLIENT_GRACE_MS = 2000;

/**
 * The one way our daemons are stopped: `graceMs` to exit by themselves, then SIGTERM,
 * then, 5 s later, SIGKILL, said aloud (a daemon killed so skips its exit path and
 * LeakSanitizer's check). Yields how long to wait for all of them to be gone and is
 * told whether they are: {@link stopDaemons} waits asynchronously, teardownSync blocks.
 */
function* escalate(ds: Daemon[], graceMs: number): Generator<number, void, boolean> {
  if (yield graceMs) return;
  for (const d of ds.filter(running)) signal(d, 'SIGTERM');
  if (yield TERM_MS) return;
  for (const d of ds.filter(running)) {
    process.stderr.write(`glujs/testing: pid ${d.pid} (${d.pidFile}) did not exit within ${TERM_MS / 1000} s of SIGTERM; sending SIGKILL\n`);
    signal(d, 'SIGKILL');
  }
  yield KILL_MS;
}
function signal(d: Daemon, sig: NodeJS.Signals): void {
  try { process.kill(d.pid, sig); } catch { /* gone */ }
}

/** Whether all of `ds` are gone within `ms`. */
export async function exited(ds: Daemon[], ms: number): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(POLL_MS)) if (!ds.some(running)) return true;
  return !ds.some(running);
}
function exitedSync(ds: Daemon[], ms: number): boolean {
  for (const end = Date.now() + ms; Date.now() < end; sleepSync(POLL_MS)) if (!ds.some(running)) return true;
  return !ds.some(running);
}

/** Stop `ds` together (see {@link escalate}). */
export async function stopDaemons(ds: Daemon[], graceMs = 0): Promise<void> {
  const steps = escalate(ds, graceMs);
  for (let s = steps.next(); !s.done; s = steps.next(await exited(ds, s.value)));
}
function stopDaemonsSync(ds: Daemon[]): void {
  const steps = escalate(ds, 0);
  for (let s = steps.next(); !s.done; s = steps.next(exitedSync(ds, s.value)));
}

/** rm -rf that survives a daemon still writing its last log lines. */
export function removeDir(dir: string): void {
  for (let i = 0; ; i++) {
    try { fs.rmSync(dir, { recursive: true, force: true }); return; } catch (e) {
      if (i >= 20) throw e;
      sleepSync(50);
    }
  }
}

/** What one harness started, as its teardown needs it; read at teardown time. */
export interface Owned {
  /** its mkdtemp directory: removed last, unless kept (or GLUJS_KEEP=1) */
  dir: string;
  /** keep dir at exit too */
  keep?: boolean;
  /** FUSE mount points: unmounted first */
  mounts(): string[];
  /** the mounts' clients: stopped together once unmounted */
  clients(): Daemon[];
  /** the other daemons: stopped after the clients, one at a time, in this order */
  servers(): Daemon[];
  /** files outside dir, removed once the daemons are gone (statedump options, brick sockets) */
  files(): Iterable<string>;
  /** stop() only: after the clients, before the servers (glusterd: stop and delete its volumes) */
  settle?(): Promise<void>;
  /** after the files, before dir (glusterd: what it created outside its directories) */
  cleanup?(): void;
}

const live = new Set<Owned>();

/** Tear `o` down at exit (or on a fatal signal) unless {@link teardown} has done it first. */
export function track(o: Owned): void {
  onProcessExit(exitTeardown);
  live.add(o);
}
function exitTeardown(): void { for (const o of [...live]) teardownSync(o); }

/** Unmount, let the clients leave, settle, stop the servers, remove what is left. */
export async function teardown(o: Owned, keep = !!o.keep): Promise<void> {
  await Promise.all(o.mounts().map(unmount));
  await stopDaemons(o.clients(), CLIENT_GRACE_MS);
  await o.settle?.();
  for (const d of o.servers()) await stopDaemons([d], d.graceMs ?? 0);
  finish(o, keep, (f) => f());
}

/** The same, synchronously, for process exit and a failed start: lazy unmounts, every
 * daemon at once, and each step tried whatever the one before did. */
export function teardownSync(o: Owned): void {
  live.delete(o);
  const step = (f: () => void) => { try { f(); } catch { /* keep going: the rest must still run */ } };
  for (const m of o.mounts()) {
    step(() => { if (mountType(m)) execFileSync('umount', ['-l', m], { stdio: 'ignore', timeout: 5000 }); });
  }
  step(() => stopDaemonsSync([...o.clients(), ...o.servers()]));
  finish(o, !!o.keep, step);
}

function finish(o: Owned, keep: boolean, step: (f: () => void) => void): void {
  for (const f of [...o.files()]) step(() => fs.rmSync(f, { force: true }));
  if (o.cleanup) step(o.cleanup);
  if (!keep && !keepEnv()) step(() => removeDir(o.dir));
  live.delete(o);
}

const exitHooks = new Set<() => void>();
let exitHooked = false;
/**
 * Runs `fn` (synchronously) when this process exits, or on SIGINT/SIGTERM/SIGHUP
 * (re-raised afterwards when nothing else handles it): tear-down that holds
 * even when a test crashes.
 */
export function onProcessExit(fn: () => void): void {
  exitHooks.add(fn);
  if (exitHooked) return;
  exitHooked = true;
  const runAll = () => { for (const h of [...exitHooks]) h(); };
  process.on('exit', runAll);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const handler = () => {
      runAll();
      if (process.listenerCount(sig) === 1) { process.removeListener(sig, handler); process.kill(process.pid, sig); }
    };
    process.on(sig, handler);
  }
}
