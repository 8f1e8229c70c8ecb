/**
 * A private glusterd for tests and development: its own working directory, run
 * directory, log directory and CLI socket under one temporary directory, volumes on
 * local directories, FUSE mounts fetched from it, and a teardown that stops all of it
 * by PID (pid files and /proc, never by process name), also on process exit or
 * SIGINT/SIGTERM.
 *
 * What GlusterFS 10.3 allows (measured):
 * - glusterd takes `working-directory`, `run-directory` (brick pid files),
 *   `logging-directory` (its cmd_history.log and brick logs) and `glusterd-sockfile`
 *   (the CLI socket; `gluster --glusterd-sock=FILE`) from its volfile (`glusterd -f`).
 * - It must listen on TCP 24007: bricks are started with `-s <brick host>` and no port,
 *   so they fetch their volfile from, and sign in at, port 24007. One such glusterd per
 *   machine at a time: {@link startGlusterd} waits for the port, then fails saying who
 *   holds it. It binds 127.0.0.1 only.
 * - `gluster volume create` refuses the brick hosts `localhost` and `127.0.0.1`
 *   literally; the host name (when it resolves to 127.0.0.1) or `127.1` are accepted
 *   and are still the loopback address.
 * - At start glusterd runs gsyncd (geo-replication set-up, ~3 s) and creates, whatever
 *   its working directory, `/var/lib/glusterd/ss_brick`, `/var/lib/glusterd/geo-replication/
 *   gsyncd_template.conf` and `/run/gluster/snaps` (and `/run/gluster/metrics` appears). Those
 *   that did not exist before are removed at stop, and the directories' mtimes restored.
 * - Bricks listen on a unix socket in /var/run/gluster (`-S`), removed at stop.
 * @packageDocumentation
 */
import { execFileSync } from 'node:child_process';
import * as dns from 'node:dns';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { cmdline, daemonEnv, mountType, ours, readPid, readText, run, sleep, unmount, type Run } from './proc';
import { stopDaemons, teardown, teardownSync, track, type Daemon, type Owned } from './teardown';

export const GLUSTERD_PORT = 24007;

/** Paths glusterd 10.3 creates outside its working directory (compiled in). */
const STRAYS = [
  '/var/lib/glusterd/geo-replication/gsyncd_template.conf',
  '/var/lib/glusterd/geo-replication',
  '/var/lib/glusterd/ss_brick',
  '/run/gluster/snaps',
  '/run/gluster/metrics',
];

export interface GlusterdOptions {
  /** base directory for the mkdtemp directory (default os.tmpdir()). */
  dir?: string;
  /** how long to wait for another glusterd to release port 24007 (default 60 s). */
  waitForPortMs?: number;
  /** brick host name (default: this host's name if it resolves to 127.0.0.1, else 127.1). */
  brickHost?: string;
  /** keep the directory (logs) after stop; also with GLUJS_KEEP=1. */
  keep?: boolean;
}

export type { Run };

/** A FUSE mount of a glusterd volume (fetched with --volfile-server). */
export interface Mount {
  dir: string; log: string; pidFile: string; pid: number;
  logText(): string;
  /** names of the client's threads (/proc/PID/task/N/comm). */
  threads(): string[];
  /** resident set size in kB. */
  rssKb(): number;
  unmount(): Promise<void>;
}

export interface GdVolume {
  name: string;
  brickDirs: string[];
  /** <workdir>/vols/<name>: where glusterd writes this volume's volfiles. */
  volfileDir: string;
  /** the FUSE client volfile a local mount gets (trusted-<name>.tcp-fuse.vol) and the other one. */
  clientVolfile: string; plainClientVolfile: string;
  /** the brick volfile(s). */
  brickVolfiles(): string[];
  /** pids of the running bricks (from glusterd's pid files, checked against /proc). */
  brickPids(): number[];
  /** brick log text(s), concatenated. */
  brickLog(): string;
  set(key: string, value: string): Promise<Run>;
  reset(key?: string): Promise<Run>;
  /** `gluster volume stop` then `start`, waiting until the bricks run again. */
  restart(): Promise<void>;
  mount(extra?: string[]): Promise<Mount>;
}

export interface Glusterd {
  dir: string; workdir: string; rundir: string; logdir: string;
  sock: string; pidFile: string; log: string; pid: number; brickHost: string;
  /** `gluster --mode=script --glusterd-sock=... --log-file=... ARGS`; rejects on a non-zero exit unless check is false. */
  gluster(args: string[], opts?: { check?: boolean; timeoutMs?: number }): Promise<Run>;
  /** environment for `glujs` CLI runs against this glusterd (gluster CLI log inside dir). */
  env: NodeJS.ProcessEnv;
  /** create (with force) and start a volume of `bricks` bricks (default 1) on directories under dir;
   *  `replica` N makes it replicated (bricks a multiple of N; N >= 2). */
  createVolume(name: string, opts?: { bricks?: number; replica?: number; start?: boolean }): Promise<GdVolume>;
  logText(): string;
  /** unmount, stop and delete the volumes, kill what is left, stop glusterd, clean up. Idempotent. */
  stop(): Promise<void>;
}

export class GlusterdError extends Error {
  constructor(message: string) { super(message); this.name = 'GlusterdError'; }
}


function portBusy(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = net.connect(port, '127.0.0.1', () => { c.destroy(); resolve(true); });
    c.once('error', () => resolve(false));
    c.setTimeout(2000, () => { c.destroy(); resolve(true); });
  });
}

async function defaultBrickHost(): Promise<string> {
  const h = os.hostname();
  if (h && h !== 'localhost') {
    try {
      const { address } = await dns.promises.lookup(h, { family: 4 });
      if (address === '127.0.0.1') return h;
    } catch { /* fall through */ }
  }
  return '127.1';
}

/** Every pid file glusterd wrote under the run directory (bricks, and daemons it may start). */
function pidFilesUnder(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    let ents: fs.Dirent[] = [];
    try { ents = fs.readdirSync(d, { withFileTypes: true }); } catch { return; }
    for (const e of ents) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.pid')) out.push(p);
    }
  };
  walk(dir);
  return out;
}

interface State {
  dir: string; glusterdPid: number; rundir: string;
  mounts: Map<string, Daemon>;
  sockets: Set<string>; strays: string[]; volumes: Set<string>;
  /** mtimes of the directories holding strays, to restore after removing them. */
  mtimes: Map<string, bigint>;
}

/** Remove what glusterd created outside its directories (only what did not exist before). */
function cleanStrays(s: State): void {
  for (const p of s.strays) {
    try {
      const st = fs.lstatSync(p);
      if (st.isDirectory()) fs.rmdirSync(p); // only when empty
      else if (st.isFile() && st.size === 0) fs.rmSync(p);
    } catch { /* gone, or not empty: leave it */ }
  }
  for (const [d, mtime] of s.mtimes) {
    if (s.strays.some((p) => p.startsWith(d + '/') && fs.existsSync(p))) continue;
    const ns = mtime % 1000000000n, sec = mtime / 1000000000n;
    // touch: nanosecond precision (fs.utimes has less)
    try { execFileSync('touch', ['-m', '-d', `@${sec}.${String(ns).padStart(9, '0')}`, d], { stdio: 'ignore', timeout: 5000 }); } catch { /* gone */ }
  }
}

/** What teardown stops: the mounts' clients; then the daemons our pid files name (bricks),
 * which `volume stop` has asked to exit, and glusterd last. */
function owned(s: State, gluster: Glusterd['gluster'], keep: boolean): Owned {
  return {
    dir: s.dir, keep,
    mounts: () => [...s.mounts.keys()],
    clients: () => [...s.mounts.values()],
    servers: () => {
      s.glusterdPid ||= readPid(path.join(s.dir, 'glusterd.pid'));
      const seen = new Set([s.glusterdPid]);
      const bricks: Daemon[] = [];
      for (const pidFile of pidFilesUnder(s.rundir)) {
        const pid = readPid(pidFile);
        if (!seen.has(pid)) { seen.add(pid); bricks.push({ pidFile, pid, mark: s.dir, graceMs: 2000 }); }
      }
      return [...bricks, { pidFile: path.join(s.dir, 'glusterd.pid'), pid: s.glusterdPid, mark: s.dir }];
    },
    files: () => s.sockets,
    // a client holds the volume open: its mounts are gone by now
    async settle() {
      if (!ours(s.glusterdPid, s.dir)) return;
      for (const v of s.volumes) {
        await gluster(['volume', 'stop', v, 'force'], { check: false, timeoutMs: 30000 });
        await gluster(['volume', 'delete', v], { check: false, timeoutMs: 30000 });
      }
    },
    cleanup: () => cleanStrays(s),
  };
}

/**
 * Start a private glusterd. Rejects with {@link GlusterdError} (having cleaned up) when
 * it cannot: no glusterd binary, port 24007 held by someone else, or it did not come up.
 */
export async function startGlusterd(opts: GlusterdOptions = {}): Promise<Glusterd> {
  if ((await run('glusterd', ['--version'], 10000)).code !== 0) throw new GlusterdError('glusterd is not installed (no glusterd in PATH)');
  const waitMs = opts.waitForPortMs ?? 60000;
  for (const end = Date.now() + waitMs; await portBusy(GLUSTERD_PORT);) {
    if (Date.now() > end) {
      const who = (await run('ss', ['-Hltnp', `sport = :${GLUSTERD_PORT}`], 5000)).out.trim();
      throw new GlusterdError(`port ${GLUSTERD_PORT} is in use (${who || 'unknown process'}): another glusterd runs here; ` +
        'bricks always contact glusterd on 24007, so a private glusterd cannot run beside it');
    }
    await sleep(500);
  }
  const base = path.resolve(opts.dir ?? os.tmpdir());
  fs.mkdirSync(base, { recursive: true });
  const dir = fs.mkdtempSync(path.join(base, 'glujs-gd-'));
  const p = (f: string) => path.join(dir, f);
  const workdir = p('wd'), rundir = p('run'), logdir = p('log'), sock = p('glusterd.sock');
  const pidFile = p('glusterd.pid'), log = p('glusterd.log'), volfile = p('glusterd.vol');
  for (const d of [workdir, rundir, logdir, p('bricks'), p('mnt')]) fs.mkdirSync(d);
  fs.writeFileSync(volfile, [
    'volume management',
    '    type mgmt/glusterd',
    `    option working-directory ${workdir}`,
    `    option run-directory ${rundir}`,
    `    option logging-directory ${logdir}`,
    `    option glusterd-sockfile ${sock}`,
    '    option transport-type socket',
    `    option transport.socket.listen-port ${GLUSTERD_PORT}`,
    '    option transport.socket.bind-address 127.0.0.1',
    '    option ping-timeout 0',
    '    option event-threads 1',
    'end-volume', ''].join('\n'));
  const strays = STRAYS.filter((f) => !fs.existsSync(f));
  const mtimes = new Map<string, bigint>();
  for (const f of strays) {
    const d = path.dirname(f);
    try { if (!mtimes.has(d)) mtimes.set(d, fs.statSync(d, { bigint: true }).mtimeNs); } catch { /* absent */ }
  }
  const cliLog = p('cli.log');
  const env = { ...process.env, GLUJS_GLUSTER_LOG: cliLog };
  const gluster = async (args: string[], o: { check?: boolean; timeoutMs?: number } = {}): Promise<Run> => {
    const r = await run('gluster', ['--mode=script', `--glusterd-sock=${sock}`, `--log-file=${cliLog}`, ...args], o.timeoutMs ?? 60000);
    if (r.code !== 0 && o.check !== false) {
      throw new GlusterdError(`gluster ${args.join(' ')} failed (exit ${r.code}): ${(r.out + r.err).trim()}`);
    }
    return r;
  };
  const s: State = { dir, glusterdPid: 0, rundir, mounts: new Map(), sockets: new Set(), strays, volumes: new Set(), mtimes };
  const own = owned(s, gluster, !!opts.keep);
  track(own);
  let stopping: Promise<void> | undefined;
  try {
    const brickHost = opts.brickHost ?? await defaultBrickHost();
    // the bricks glusterd spawns inherit its environment (GLUJS_DAEMON_PRELOAD: ASan)
    const r = await run('glusterd', ['-f', volfile, '-p', pidFile, '-l', log], 60000, daemonEnv());
    let ok = false;
    for (const end = Date.now() + 30000; Date.now() < end; await sleep(100)) {
      s.glusterdPid ||= readPid(pidFile);
      if (s.glusterdPid && !ours(s.glusterdPid, dir)) break;
      if (s.glusterdPid && fs.existsSync(sock) && (await gluster(['system::', 'getwd'], { check: false, timeoutMs: 10000 })).code === 0) { ok = true; break; }
      if (r.code !== 0 && !s.glusterdPid) break;
    }
    if (!ok) {
      const errs = readText(log).split('\n').filter((l) => /\] [EC] /.test(l)).slice(-10).join('\n');
      throw new GlusterdError(`glusterd did not come up (exit ${r.code}${r.err ? `: ${r.err.trim()}` : ''}; ` +
        `${s.glusterdPid && ours(s.glusterdPid, dir) ? `pid ${s.glusterdPid} alive but the CLI gets no answer` : 'process gone'})\n${errs}`);
    }
    const g: Glusterd = {
      dir, workdir, rundir, logdir, sock, pidFile, log, pid: s.glusterdPid, brickHost, env,
      gluster,
      logText: () => readText(log),
      createVolume: (name, o = {}) => createVolume(g, s, name, o),
      stop: () => (stopping ??= teardown(own)),
    };
    return g;
  } catch (e) {
    teardownSync(own);
    throw e;
  }
}

async function createVolume(g: Glusterd, s: State, name: string, o: { bricks?: number; replica?: number; start?: boolean }): Promise<GdVolume> {
  const n = o.bricks ?? o.replica ?? 1;
  if (o.replica !== undefined && (!Number.isInteger(o.replica) || o.replica < 2 || n % o.replica !== 0)) {
    throw new GlusterdError(`createVolume ${name}: replica must be an integer >= 2 that divides the brick count (${n}), got ${o.replica}`);
  }
  const brickDirs = Array.from({ length: n }, (_, i) => path.join(g.dir, 'bricks', `${name}-b${i}`));
  for (const b of brickDirs) fs.mkdirSync(b, { recursive: true });
  await g.gluster(['volume', 'create', name, ...(o.replica ? ['replica', String(o.replica)] : []),
    ...brickDirs.map((b) => `${g.brickHost}:${b}`), 'force']);
  s.volumes.add(name);
  const volfileDir = path.join(g.workdir, 'vols', name);
  const runDir = path.join(g.rundir, 'vols', name);
  const brickPids = () => pidFilesUnder(runDir).map(readPid).filter((p) => ours(p, g.dir));
  const waitBricks = async (what: string) => {
    for (const end = Date.now() + 20000; Date.now() < end; await sleep(50)) {
      const pids = brickPids();
      if (pids.length === n) {
        for (const pid of pids) {
          const argv = cmdline(pid), i = argv.indexOf('-S');
          if (i >= 0 && argv[i + 1]) s.sockets.add(argv[i + 1]);
        }
        // listening (signed in at glusterd's portmap)?
        const st = await g.gluster(['volume', 'status', name, '--xml'], { check: false });
        const online = [...st.out.matchAll(/<status>(\d)<\/status>/g)].filter((m) => m[1] === '1').length;
        if (online >= n) return;
      }
    }
    throw new GlusterdError(`${what}: the bricks of ${name} did not come up\n${vol.brickLog().split('\n').filter((l) => /\] [EC] /.test(l)).slice(-10).join('\n')}`);
  };
  const vol: GdVolume = {
    name, brickDirs, volfileDir,
    clientVolfile: path.join(volfileDir, `trusted-${name}.tcp-fuse.vol`),
    plainClientVolfile: path.join(volfileDir, `${name}.tcp-fuse.vol`),
    brickVolfiles: () => brickDirs.map((b) => path.join(volfileDir, `${name}.${g.brickHost}.${b.slice(1).replace(/\//g, '-')}.vol`)),
    brickPids,
    brickLog: () => brickDirs.map((b) => readText(path.join(g.logdir, 'bricks', `${b.slice(1).replace(/\//g, '-')}.log`))).join('\n'),
    set: (key, value) => g.gluster(['volume', 'set', name, key, value]),
    reset: (key) => g.gluster(['volume', 'reset', name, ...(key ? [key] : [])]),
    async restart() {
      await g.gluster(['volume', 'stop', name]);
      await g.gluster(['volume', 'start', name]);
      await waitBricks('volume restart');
    },
    mount: (extra = []) => mount(g, s, name, extra),
  };
  if (o.start ?? true) {
    await g.gluster(['volume', 'start', name]);
    await waitBricks('volume start');
  }
  return vol;
}

async function mount(g: Glusterd, s: State, volname: string, extra: string[]): Promise<Mount> {
  const dir = fs.mkdtempSync(path.join(g.dir, 'mnt', `${volname}-`));
  const log = `${dir}.log`, pidFile = `${dir}.pid`;
  const m: Daemon = { pidFile, pid: 0, mark: g.dir };
  s.mounts.set(dir, m);
  const r = await run('glusterfs', ['--volfile-server=127.0.0.1', `--volfile-id=${volname}`, '-l', log, '--pid-file', pidFile, ...extra, dir], 30000, daemonEnv());
  let ok = false;
  for (const end = Date.now() + 20000; Date.now() < end && r.code === 0; await sleep(50)) {
    m.pid ||= readPid(pidFile);
    if (mountType(dir) === 'fuse.glusterfs') { ok = (await run('stat', ['-c', '%i', dir], 10000)).code === 0; if (ok) break; }
    else if (m.pid && !ours(m.pid, g.dir)) break;
  }
  m.pid ||= readPid(pidFile);
  if (!ok) {
    const errs = readText(log).split('\n').filter((l) => /\] [EC] /.test(l)).slice(-10).join('\n');
    throw new GlusterdError(`mount of ${volname} at ${dir} did not come up (glusterfs exit ${r.code}${r.err ? `: ${r.err.trim()}` : ''})\n${errs}`);
  }
  let unmounting: Promise<void> | undefined;
  return {
    dir, log, pidFile, pid: m.pid,
    logText: () => readText(log),
    threads: () => {
      try { return fs.readdirSync(`/proc/${m.pid}/task`).map((t) => readText(`/proc/${m.pid}/task/${t}/comm`).trim()); } catch { return []; }
    },
    rssKb: () => parseInt(/^VmRSS:\s+(\d+)/m.exec(readText(`/proc/${m.pid}/status`))?.[1] ?? '0', 10),
    unmount: () => (unmounting ??= (async () => {
      await unmount(dir);
      await stopDaemons([m], 3000);
      s.mounts.delete(dir);
    })()),
  };
}
