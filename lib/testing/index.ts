/**
 * glujs/testing: start a throwaway GlusterFS volume without glusterd (one standalone
 * `glusterfsd` brick plus one or more `glusterfs` FUSE mounts) and always tear it down.
 *
 * Facts this relies on (GlusterFS 10.3): both daemons daemonize and may exit 0 even
 * when a translator fails to init, so readiness is checked directly (brick: its pid
 * listens on the port; mount: /proc/mounts shows fuse.glusterfs and stat works). Log
 * and pid paths must be absolute (a relative `-l x.log` creates a directory).
 * Statedumps go to `statedump-path` (protocol/server option) or, for any process, to
 * `path=` in `/var/run/gluster/glusterdump.<pid>.options`; default `/var/run/gluster`.
 * @packageDocumentation
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import type { TestContext } from 'node:test';
import { daemonEnv, keepEnv, mountType, readPid, readText, run, sleep } from './proc';
import { statedump } from './statedump';
import { exited, onProcessExit, removeDir, running, stopDaemons, teardown, track, type Daemon, type Owned } from './teardown';

export { mountType, onProcessExit };
export { startCluster, withCluster, ClusterError, type Cluster, type ClusterOptions, type ClusterModule, type ClusterHost, type ClusterBrick, type ClusterMount } from "./cluster";

/**
 * One translator in a volfile. `name` is its volume name (unique per graph).
 * Its child is the xlator listed before it, unless `subvolumes` names its
 * children (volfile order; `[]` for a leaf, such as a second storage/posix
 * that a translator with two children lists after the one before it).
 */
export interface XlatorSpec {
  name: string; type: string; options?: Record<string, string | number | boolean>; subvolumes?: string[];
}

/** How to build the throwaway volume. */
export interface VolumeOptions {
  /** xlators inserted in the CLIENT graph above protocol/client (listed bottom-up); the top one is mounted. */
  client?: XlatorSpec[];
  /** xlators inserted in the BRICK graph directly above performance/io-threads and below io-stats/protocol/server (bottom-up). */
  brick?: XlatorSpec[];
  /** add features/upcall (cache-invalidation on) between features/locks and io-threads (default false). */
  upcall?: boolean;
  /** number of FUSE mounts of the same brick, each with the same client graph (default 1). */
  mounts?: number;
  /** add debug/io-stats (latency-measurement, count-fop-hits) below protocol/server (default true). */
  ioStats?: boolean;
  /** extra arguments for each `glusterfs` mount command, e.g. `['--entry-timeout=0']`. */
  mountOptions?: string[];
  /** map the brick port to the port clients connect to (e.g. a delay proxy). A proxy running in the
   *  test's own process needs async fs calls on the mount: a sync call blocks its loop (deadlock). */
  proxyPort?: (brickPort: number) => number;
  /** base directory for the volume's mkdtemp directory (default os.tmpdir()). */
  dir?: string;
}

/** A running volume. All paths are absolute. */
export interface Volume {
  dir: string; brickDir: string; mount: string; mounts: string[]; port: number;
  brickLog: string; clientLogs: string[]; brickPid: number; clientPids: number[];
  clientVolfile: string; serverVolfile: string;
  /** volume name of the brick graph's top subvolume (the clients' remote-subvolume). */
  remoteSubvolume: string;
  /** text of the brick log or of client `i`'s log ('' if missing). */
  log(which: 'brick' | number): string;
  /** SIGUSR1 statedump of the brick or client `i`; resolves to the dump's text (the file is deleted). */
  statedump(which: 'brick' | number): Promise<string>;
  /** unmount, stop the processes (by their pid files only), remove `dir` unless keep or GLUJS_KEEP=1. Idempotent. */
  stop(opts?: { keep?: boolean }): Promise<void>;
}

/** Thrown by {@link startVolume} when the brick or a mount does not come up; carries the logs. */
export class VolumeStartError extends Error {
  constructor(message: string, readonly brickLog: string, readonly clientLog: string) { super(message); this.name = 'VolumeStartError'; }
}


/** The last 20 error/critical lines of a log (or its last 20 lines if it has none). */
function logReport(file: string): string {
  const lines = readText(file).split('\n').filter((l) => l.trim());
  const bad = lines.filter((l) => /^\[[^\]]*\] [EC] /.test(l));
  return (bad.length ? bad : lines).slice(-20).join('\n') || `(${file} is empty or missing)`;
}
/** A port that was free a moment ago on 127.0.0.1. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address() as net.AddressInfo; s.close(() => resolve(port)); });
  });
}
/** Is `pid` listening on 127.0.0.1:`port`? (ss; falls back to a plain connect) */
async function listening(port: number, pid: number): Promise<boolean> {
  const r = await run('ss', ['-Hltnp', `sport = :${port}`], 5000);
  if (r.code === 0) return r.out.includes(`pid=${pid},`);
  return new Promise((resolve) => {
    const c = net.connect(port, '127.0.0.1', () => { c.destroy(); resolve(true); });
    c.once('error', () => resolve(false));
  });
}

function volfile(graph: XlatorSpec[]): string {
  return graph.map((x, i) => [`volume ${x.name}`, `  type ${x.type}`,
    ...Object.entries(x.options ?? {}).map(([k, v]) => `  option ${k} ${v === true ? 'on' : v === false ? 'off' : v}`),
    ...(x.subvolumes ? (x.subvolumes.length ? [`  subvolumes ${x.subvolumes.join(' ')}`] : [])
      : i > 0 ? [`  subvolumes ${graph[i - 1].name}`] : []), 'end-volume', ''].join('\n')).join('\n');
}
function checkNames(graph: XlatorSpec[], where: string): void {
  const seen = new Set<string>();
  for (const x of graph) {
    if (!/^[A-Za-z0-9_.:+-]+$/.test(x.name)) throw new Error(`${where} xlator name ${JSON.stringify(x.name)} is not a valid volume name`);
    if (seen.has(x.name)) throw new Error(`${where} xlator name ${JSON.stringify(x.name)} is used twice (built-ins: posix, locks, upcall, io-threads, io-stats, server, client)`);
    seen.add(x.name);
  }
}

/**
 * Start a brick and `mounts` FUSE mounts. Rejects with {@link VolumeStartError} (after
 * cleaning up everything it started) if the brick or a mount does not come up in ~15 s.
 */
export async function startVolume(opts: VolumeOptions = {}): Promise<Volume> {
  const nMounts = opts.mounts ?? 1;
  if (!Number.isInteger(nMounts) || nMounts < 1) throw new Error(`mounts must be a positive integer, got ${nMounts}`);
  const brickGraph: XlatorSpec[] = [
    { name: 'posix', type: 'storage/posix', options: { directory: '' } }, // directory set below
    { name: 'locks', type: 'features/locks' },
    ...(opts.upcall ? [{ name: 'upcall', type: 'features/upcall', options: { 'cache-invalidation': 'on' } }] : []),
    { name: 'io-threads', type: 'performance/io-threads' },
    ...(opts.brick ?? []),
    ...(opts.ioStats ?? true ? [{ name: 'io-stats', type: 'debug/io-stats', options: { 'latency-measurement': 'on', 'count-fop-hits': 'on' } }] : []),
  ];
  checkNames([...brickGraph, { name: 'server', type: '' }], 'brick');
  checkNames([{ name: 'client', type: '' }, ...(opts.client ?? [])], 'client');
  const base = path.resolve(opts.dir ?? os.tmpdir());
  fs.mkdirSync(base, { recursive: true });
  const dir = fs.mkdtempSync(path.join(base, 'glujs-'));
  const p = (f: string) => path.join(dir, f);
  const brickDir = p('brick'), dumpDir = p('dumps');
  const mounts = Array.from({ length: nMounts }, (_, i) => p(`mnt${i}`));
  const clientLogs = mounts.map((_, i) => p(`client${i}.log`));
  const clientPidFiles = mounts.map((_, i) => p(`client${i}.pid`));
  const brickLog = p('brick.log'), serverVolfile = p('server.vol'), clientVolfile = p('client.vol');
  for (const d of [brickDir, dumpDir, ...mounts]) fs.mkdirSync(d);
  const brick: Daemon = { pidFile: p('brick.pid'), pid: 0 };
  const clients: Daemon[] = [];
  const optFiles = new Set<string>();
  const s: Owned = { dir, mounts: () => mounts, clients: () => clients, servers: () => [brick], files: () => optFiles };
  track(s);

  brickGraph[0].options = { directory: brickDir };
  const top = brickGraph[brickGraph.length - 1].name;
  let failedLog = brickLog;
  try {
    // Brick: retry with a new port if another process grabbed ours in between.
    let port = 0;
    for (let attempt = 0; !port; attempt++) {
      const candidate = await freePort();
      fs.writeFileSync(serverVolfile, volfile([...brickGraph, {
        name: 'server', type: 'protocol/server', options: {
          'transport-type': 'tcp', 'transport.socket.listen-port': candidate, 'transport.socket.bind-address': '127.0.0.1',
          [`auth.addr.${top}.allow`]: '127.0.0.1', 'statedump-path': dumpDir,
        },
      }]));
      fs.rmSync(brick.pidFile, { force: true });
      const r = await run('glusterfsd', ['-f', serverVolfile, '-l', brickLog, '--pid-file', brick.pidFile], 15000, daemonEnv());
      for (const end = Date.now() + 15000; Date.now() < end && !port; await sleep(20)) {
        brick.pid = brick.pid || readPid(brick.pidFile);
        if (brick.pid && running(brick) && await listening(candidate, brick.pid)) port = candidate;
        else if ((brick.pid && !running(brick)) || (r.code !== 0 && !running(brick))) break;
      }
      if (port) break;
      if (/already in use/i.test(readText(brickLog)) && attempt < 4) { await stopDaemons([brick]); brick.pid = 0; continue; }
      throw new Error(`brick did not come up (glusterfsd exit ${r.code}${r.err ? `: ${r.err.trim()}` : ''}, ` +
        `${brick.pid && running(brick) ? `pid ${brick.pid} alive but not listening on ${candidate}` : 'process gone'})`);
    }
    const clientGraph: XlatorSpec[] = [{
      name: 'client', type: 'protocol/client', options: {
        'remote-host': '127.0.0.1', 'remote-port': opts.proxyPort ? opts.proxyPort(port) : port,
        'remote-subvolume': top, 'transport-type': 'tcp',
      },
    }, ...(opts.client ?? [])];
    fs.writeFileSync(clientVolfile, volfile(clientGraph));
    for (let i = 0; i < nMounts; i++) {
      failedLog = clientLogs[i];
      const c: Daemon = { pidFile: clientPidFiles[i], pid: 0 };
      clients.push(c);
      const r = await run('glusterfs', ['-f', clientVolfile, '-l', clientLogs[i], '--pid-file', c.pidFile, ...(opts.mountOptions ?? []), mounts[i]], 15000, daemonEnv());
      let ok = false;
      for (const end = Date.now() + 15000; Date.now() < end && !ok && r.code === 0; await sleep(20)) {
        c.pid = c.pid || readPid(c.pidFile);
        if (mountType(mounts[i]) === 'fuse.glusterfs') ok = (await run('stat', ['-c', '%i', mounts[i]], 5000)).code === 0;
        else if (c.pid && !running(c)) break;
      }
      c.pid ||= readPid(c.pidFile);
      // glusterfsd listens before the rest of its graph is up: a brick whose
      // init fails late (slow daemons: ASan) dies under the first mount.
      if (!ok && await exited([brick], 1000)) {
        failedLog = brickLog;
        throw new Error(`brick did not come up (pid ${brick.pid} listened on ${port}, then exited; mount ${i} failed with it)`);
      }
      if (!ok) throw new Error(`mount ${i} (${mounts[i]}) did not come up (glusterfs exit ${r.code}${r.err ? `: ${r.err.trim()}` : ''})`);
    }
    failedLog = '';
    const queues = new Map<Daemon, Promise<unknown>>();
    let stopping: Promise<void> | undefined;
    const pick = (which: 'brick' | number): Daemon => {
      const proc = which === 'brick' ? brick : clients[which];
      if (!proc) throw new RangeError(`no such process: ${which}`);
      return proc;
    };
    return {
      dir, brickDir, mount: mounts[0], mounts, port, brickLog, clientLogs, brickPid: brick.pid,
      clientPids: clients.map((c) => c.pid), clientVolfile, serverVolfile, remoteSubvolume: top,
      log: (which) => readText(which === 'brick' ? brickLog : clientLogs[which] ?? ''),
      statedump(which) {
        const proc = pick(which);
        const next = (queues.get(proc) ?? Promise.resolve()).catch(() => undefined).then(() => statedump(proc, dumpDir, optFiles));
        queues.set(proc, next);
        return next;
      },
      stop: ({ keep = false } = {}) => (stopping ??= teardown(s, keep)),
    };
  } catch (e) {
    await teardown(s, true); // keep the logs until they are read
    const brickText = readText(brickLog), clientText = failedLog && failedLog !== brickLog ? readText(failedLog) : '';
    const msg = `${(e as Error).message}\n--- ${failedLog || brickLog} ---\n${logReport(failedLog || brickLog)}` +
      (keepEnv() ? `\n(kept ${dir})` : '');
    if (!keepEnv()) removeDir(dir);
    throw new VolumeStartError(msg, brickText, clientText);
  }
}

/**
 * node:test helper: start a volume for test `t` and tear it down in `t.after` (also on
 * process exit or SIGINT/SIGTERM), whether or not the test passes.
 */
export async function withVolume(t: TestContext, opts?: VolumeOptions): Promise<Volume> {
  const v = await startVolume(opts);
  t.after(() => v.stop());
  return v;
}

/** A small deterministic PRNG (mulberry32) in [0, 1): seeded tests and benchmarks can be replayed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Options of {@link withTranslator}. */
export interface TranslatorTestOptions {
  /** volfile options for the translator (`this.options`, and glujs's own such as handler-timeout) */
  options?: Record<string, string | number | boolean>;
  /** where the translator goes: the client graph (default) or the brick graph */
  where?: 'client' | 'brick';
  /** its volume name in the volfile (default: the module's file name) */
  name?: string;
  /** anything else for the volume (mounts, upcall, mountOptions, ...) */
  volume?: VolumeOptions;
}

/**
 * One call for a translator author's `node:test` test: a throwaway real volume
 * (a brick and a FUSE mount) with `module` loaded as `features/glujs`;
 * resolves to the mount path. Torn down when the test ends, pass or fail.
 *
 * ```ts
 * import test from 'node:test';
 * import { withTranslator } from 'glujs/testing';
 * test('hides secrets', async (t) => {
 *   const mnt = await withTranslator(t, require.resolve('./hide.ts'), { options: { prefix: 'secret' } });
 *   // ... use the mount with node:fs
 * });
 * ```
 */
export async function withTranslator(t: TestContext, module: string, opts: TranslatorTestOptions = {}): Promise<string> {
  const name = opts.name ?? (path.basename(module).replace(/\.[^.]+$/, '').replace(/[^A-Za-z0-9_-]/g, '-') || 'translator');
  const spec: XlatorSpec = {
    name, type: process.env.GLUJS_TYPE || 'features/glujs', options: { module: path.resolve(module), ...opts.options },
  };
  const v = await withVolume(t, { ...opts.volume, [opts.where ?? 'client']: [...(opts.volume?.[opts.where ?? 'client'] ?? []), spec] });
  return v.mount;
}

/** Like {@link startVolume}, but resolves to a result instead of rejecting (for tests expecting a failure). */
export async function tryStartVolume(opts?: VolumeOptions):
  Promise<{ ok: true; volume: Volume } | { ok: false; error: string; brickLog: string; clientLog: string }> {
  try {
    return { ok: true, volume: await startVolume(opts) };
  } catch (e) {
    if (e instanceof VolumeStartError) return { ok: false, error: e.message, brickLog: e.brickLog, clientLog: e.clientLog };
    return { ok: false, error: String((e as Error)?.message ?? e), brickLog: '', clientLog: '' };
  }
}
