/**
 * glujs/testing: a real multi-host GlusterFS cluster on one machine, for tests. Each
 * host (server `h1..hN`, client `c1..cM`) has its own network, UTS and mount namespace;
 * servers run their own glusterd, bricks and self-heal daemon. Hosts are wired by veth
 * pairs to a bridge in a fourth "switch" namespace, or, with `rttMs`, by TAP devices to a
 * userspace switch (lib/testing/wan-switch.py) that delays every frame by rttMs/2 each way.
 * Nothing is added to the root namespace's network; addresses are 10.77.0.0/24 inside our
 * namespaces only.
 *
 * Facts this relies on (GlusterFS 10.3, measured; see PLATFORM.md):
 * - glusterd's isolation needs bind mounts, not options: brick sockets (/run/gluster),
 *   brick logs and glustershd.log (/var/log/glusterfs), and /var/lib/glusterd are compiled
 *   in. Each server host's mount namespace binds its own /var/lib/glusterd (seeded with
 *   groups/ and hooks/), /run, /var/log/glusterfs, brick root and /etc/hosts. The xlator
 *   directory's parent gets an overlay with a private, empty filter/ (glusterd's FILTERDIR),
 *   so `glujs filter install` on a host touches that host only.
 * - The shipped ping-timeout 0 leaves a partitioned peer "Connected" and the CLI hanging:
 *   our glusterds run with ping-timeout 10, the volume with network.ping-timeout 5 and
 *   cluster.heal-timeout 10; CLI calls are retried on "Locking failed".
 * - A client host's mount namespace keeps one directory (`<dir>/mnt`) in the root
 *   namespace's peer group: its FUSE mount is visible to the test process there.
 * - Bricks and shd spawned by glusterd inherit its namespaces: every process of a host is
 *   found by its network namespace (/proc/PID/ns/net), and killed by PID.
 * @packageDocumentation
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { TestContext } from 'node:test';
import { xlatorDir } from '../tools/paths';
import { DAEMON_SLOWDOWN, daemonEnv, keepEnv, mountType, readPid, readText, run, sleep, sleepSync, type Run } from './proc';
import { statedump } from './statedump';
import { onProcessExit, removeDir, type Daemon } from './teardown';

/** A glujs translator module for the bricks or the clients of a cluster. */
export interface ClusterModule {
  module: string;
  options?: Record<string, string | number | boolean>;
}

export interface ClusterOptions {
  /** server hosts (default 3). */
  hosts?: number;
  /** 'replicate N', 'distribute N' or 'DxN' (D replica sets of N); bricks go round-robin over the hosts (default 'replicate 3'). */
  layout?: string;
  /** glujs on every brick, through `user.xlator.glujs*` volume options (above io-threads). At most one:
   *  GlusterFS has one user.xlator.<name> per .so in XLATORDIR/user. */
  brick?: ClusterModule[];
  /** glujs in the FUSE client graphs, through `glujs filter install` on every server. At most one per volume. */
  client?: ClusterModule[];
  /** client hosts, each with one FUSE mount (default 1). */
  clients?: number;
  /** volume name (default 'gv'). */
  volume?: string;
  /** more `gluster volume set` options before the start (e.g. features.cache-invalidation on). */
  options?: Record<string, string>;
  /** emulated round trip between any two hosts, ms (userspace TAP switch); undefined: a plain bridge. */
  rttMs?: number;
  /** extra arguments for each client's `glusterfs` command. */
  mountOptions?: string[];
  /** base directory for the mkdtemp directory (default os.tmpdir()). */
  dir?: string;
  /** keep the directory (logs) after stop; also with GLUJS_KEEP=1. */
  keep?: boolean;
}

export interface ClusterHost {
  name: string; ip: string;
  /** the host's own directory (root view); its /var/lib/glusterd, /run, /var/log/glusterfs are lib/, run/, log/ in it */
  root: string;
  /** run a command inside the host's namespaces */
  exec(cmd: string, args: string[], opts?: { timeoutMs?: number; env?: NodeJS.ProcessEnv }): Promise<Run>;
  /** start a long-running command inside the host's namespaces (it dies with the host: killHost, stop) */
  spawn(cmd: string, args: string[]): ChildProcess;
  /** pids of every process in the host's network namespace */
  pids(): number[];
}

export interface ClusterBrick {
  host: string;
  /** the brick's path on its host (what `gluster volume info` shows) */
  path: string;
  /** the same directory as the test process sees it */
  dir: string;
  /** its log (root view) */
  log: string;
  /** SIGUSR1 statedump of its glusterfsd (whichever process serves it now); resolves to its text. */
  statedump(): Promise<string>;
}

export interface ClusterMount {
  host: string;
  /** mount point, reachable from the test process */
  dir: string;
  log: string;
  pid: number;
  logText(): string;
  /** SIGUSR1 statedump of the client; resolves to its text. */
  statedump(): Promise<string>;
}

export interface Cluster {
  dir: string; volume: string;
  hosts: ClusterHost[]; clients: ClusterHost[];
  bricks: ClusterBrick[];
  /** bricks grouped by replica set (one group per brick for distribute) */
  replicaSets: ClusterBrick[][];
  mounts: ClusterMount[];
  /** ms from nothing to the last writable mount */
  setupMs: number;
  /** pid of the WAN switch process (lib/testing/wan-switch.py) with `rttMs`; undefined on a plain bridge */
  wanPid?: number;
  /** `gluster --mode=script ARGS` on `host` (default: the first server that is up and connected); retried on "Locking failed". */
  gluster(args: string[], opts?: { host?: string; check?: boolean; timeoutMs?: number }): Promise<Run>;
  set(key: string, value: string): Promise<Run>;
  /** `glujs filter install` of `m` on every server that is up; then (unless regenerate is false)
   *  one volfile regeneration, which every glusterd filters and every mount switches to. */
  installFilter(m: ClusterModule, regenerate?: boolean): Promise<void>;
  /** `glujs filter uninstall` of the volume on every server that is up; then (unless regenerate is false)
   *  one volfile regeneration, and every mount switches to a graph without glujs. */
  uninstallFilter(regenerate?: boolean): Promise<void>;
  /** text of every brick log of `host` (default all hosts). */
  brickLog(host?: string): string;
  /** kill -9 every process of a server host (glusterd, bricks, shd). */
  killHost(h: string): Promise<void>;
  /** start a killed host's glusterd again; resolves once its bricks are online and every mount is connected to them. */
  startHost(h: string): Promise<void>;
  /** cut a host off the network / connect it again (heal resolves once every mount is connected to its bricks). */
  partition(h: string): Promise<void>;
  heal(h: string): Promise<void>;
  /** until every mount's protocol/client of every brick on `hosts` (default: all) says connected=1 (statedump). */
  waitMounts(hosts?: string[], ms?: number): Promise<void>;
  /** trigger self-heal and wait until heal info shows 0 entries on every (connected) brick. */
  healVolume(timeoutMs?: number): Promise<{ ms: number }>;
  /** unmount, kill every process of the namespaces by PID, delete the namespaces and dir. Idempotent. */
  stop(): Promise<void>;
}

export class ClusterError extends Error {
  constructor(message: string) { super(message); this.name = 'ClusterError'; }
}

const SUBNET = '10.77.0';
/** Every wait of the kit is this much longer when its daemons run under a sanitizer. */
const SLOW = DAEMON_SLOWDOWN;
/** GlusterFS's lib directory: xlator/ (XLATORDIR) and filter/ (FILTERDIR). */
const glusterLib = () => path.dirname(xlatorDir());
const WAN_SWITCH = path.resolve(__dirname, '..', '..', '..', 'lib', 'testing', 'wan-switch.py');
const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

const enter = (n: Ns) => [`--net=${n.net}`, `--uts=${n.uts}`, `--mount=${n.mnt}`, '--'];

interface Ns extends ClusterHost { net: string; uts: string; mnt: string; server: boolean; link: string; }

interface State {
  dir: string; nsDir: string; mntDir: string; keep: boolean;
  nss: Ns[]; switchNet: string;
  mounts: string[];
  wan?: ChildProcess;
  done: boolean;
}

const live = new Set<State>();

/** Inode of a namespace file (0 if it is not one, or gone). */
function nsIno(f: string): number {
  try { return fs.statSync(f).ino; } catch { return 0; }
}

/** Every pid whose network namespace is one of `inos`. */
function pidsIn(inos: number[]): number[] {
  const want = new Set(inos.filter(Boolean).map((i) => `net:[${i}]`));
  const out: number[] = [];
  if (!want.size) return out;
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try { if (want.has(fs.readlinkSync(`/proc/${e}/ns/net`))) out.push(Number(e)); } catch { /* gone */ }
  }
  return out.filter((p) => p !== process.pid);
}

function killAll(pids: number[], sig: NodeJS.Signals): void {
  for (const p of pids) { try { process.kill(p, sig); } catch { /* gone */ } }
}

/** What was started is undone here, synchronously (at stop, at process exit, after a failed start). */
function teardownSync(s: State): void {
  if (s.done) return;
  s.done = true;
  live.delete(s);
  const step = (f: () => void) => { try { f(); } catch { /* keep going: the rest must still run */ } };
  for (const m of s.mounts) {
    step(() => {
      if (!mountType(m)) return;
      try { execFileSync('umount', [m], { stdio: 'ignore', timeout: 10000 }); } catch { execFileSync('umount', ['-l', m], { stdio: 'ignore', timeout: 5000 }); }
    });
  }
  const inos = [...s.nss.map((n) => nsIno(n.net)), nsIno(s.switchNet)];
  step(() => {
    // FUSE clients leave by themselves once unmounted; then TERM, then KILL
    const wait = (ms: number) => { for (const end = Date.now() + ms; Date.now() < end && pidsIn(inos).length; sleepSync(20)); };
    wait(1000);
    killAll(pidsIn(inos), 'SIGTERM');
    wait(3000);
    const left = pidsIn(inos);
    if (left.length) {
      killAll(left, 'SIGKILL');
      wait(2000);
    }
  });
  if (s.wan && s.wan.exitCode === null) step(() => s.wan!.kill('SIGKILL'));
  for (const f of [...s.nss.flatMap((n) => [n.net, n.uts, n.mnt]), s.switchNet]) {
    step(() => { if (nsIno(f) && mountType(f)) execFileSync('umount', [f], { stdio: 'ignore', timeout: 5000 }); });
  }
  for (const d of [s.mntDir, s.nsDir]) {
    step(() => { if (mountType(d)) { try { execFileSync('umount', [d], { stdio: 'ignore', timeout: 5000 }); } catch { execFileSync('umount', ['-l', d], { stdio: 'ignore', timeout: 5000 }); } } });
  }
  if (!s.keep && !keepEnv()) step(() => removeDir(s.dir));
}

/** Parse a layout into bricks per replica set and replica sets. */
function parseLayout(layout: string): { replica: number; sets: number } {
  let m = /^replicate (\d+)$/.exec(layout);
  if (m) return { replica: Number(m[1]), sets: 1 };
  m = /^distribute (\d+)$/.exec(layout);
  if (m) return { replica: 1, sets: Number(m[1]) };
  m = /^(\d+)x(\d+)$/.exec(layout);
  if (m) return { replica: Number(m[2]), sets: Number(m[1]) };
  throw new ClusterError(`layout ${JSON.stringify(layout)}: expected 'replicate N', 'distribute N' or 'DxN'`);
}

const failed = (r: Run) => (r.out + r.err).trim();
/** The CLI's answers that mean "try again shortly" (a transaction on another host, a peer reconnecting). */
const RETRY = /Locking failed|Another transaction is in progress|not connected|Please try again|staging failed|Commit failed|quorum/i;

/**
 * Start a cluster. Rejects with {@link ClusterError} (having cleaned up) when it cannot.
 */
export async function startCluster(opts: ClusterOptions = {}): Promise<Cluster> {
  const t0 = Date.now();
  const nHosts = opts.hosts ?? 3, nClients = opts.clients ?? 1, volume = opts.volume ?? 'gv';
  const { replica, sets } = parseLayout(opts.layout ?? 'replicate 3');
  if (!(nHosts >= 1 && nHosts <= 50 && nClients >= 0 && nClients <= 50)) throw new ClusterError(`hosts (${nHosts}) and clients (${nClients}) must be 1..50 and 0..50`);
  if ((opts.brick?.length ?? 0) > 1 || (opts.client?.length ?? 0) > 1) {
    throw new ClusterError('at most one brick and one client module: GlusterFS 10.3 has one user.xlator.<name> per XLATORDIR/user/<name>.so, and the filter splices one glujs per volume');
  }
  if ((await run('glusterd', ['--version'], 10000)).code !== 0) throw new ClusterError('glusterd is not installed (no glusterd in PATH)');
  const base = path.resolve(opts.dir ?? os.tmpdir());
  fs.mkdirSync(base, { recursive: true });
  const dir = fs.mkdtempSync(path.join(base, 'glujs-cl-'));
  const nsDir = path.join(dir, 'ns'), mntDir = path.join(dir, 'mnt'), brickRoot = path.join(dir, 'bricks');
  const hostsFile = path.join(dir, 'hosts');
  for (const d of [nsDir, mntDir, brickRoot]) fs.mkdirSync(d);
  const mk = (name: string, ip: string, server: boolean): Ns => {
    const root = path.join(dir, name);
    const n: Ns = {
      name, ip, root, server, link: `v-${name}`,
      net: path.join(nsDir, `${name}.net`), uts: path.join(nsDir, `${name}.uts`), mnt: path.join(nsDir, `${name}.mnt`),
      exec: (cmd, args, o = {}) => run('nsenter', [...enter(n), cmd, ...args], (o.timeoutMs ?? 60000) * SLOW, o.env ?? daemonEnv()),
      spawn: (cmd, args) => spawn('nsenter', [...enter(n), cmd, ...args], { stdio: ['pipe', 'pipe', 'pipe'] }),
      pids: () => pidsIn([nsIno(n.net)]),
    };
    for (const d of ['run', 'log', ...(server ? ['lib', 'bricks', 'filter', 'xl-upper', 'xl-work'] : [])]) fs.mkdirSync(path.join(root, d), { recursive: true });
    for (const f of [n.net, n.uts, n.mnt]) fs.writeFileSync(f, '');
    return n;
  };
  const hosts = Array.from({ length: nHosts }, (_, i) => mk(`h${i + 1}`, `${SUBNET}.${11 + i}`, true));
  const clients = Array.from({ length: nClients }, (_, i) => mk(`c${i + 1}`, `${SUBNET}.${101 + i}`, false));
  const nss = [...hosts, ...clients];
  fs.writeFileSync(hostsFile, ['127.0.0.1 localhost', ...nss.map((n) => `${n.ip} ${n.name}`), ''].join('\n'));
  const s: State = { dir, nsDir, mntDir, keep: !!opts.keep, nss, switchNet: path.join(nsDir, 'switch.net'), mounts: [], done: false };
  fs.writeFileSync(s.switchNet, '');
  live.add(s);
  onProcessExit(() => { for (const x of [...live]) teardownSync(x); });

  const sh = async (args: string[], what: string, timeoutMs = 30000) => {
    const r = await run(args[0], args.slice(1), timeoutMs);
    if (r.code !== 0) throw new ClusterError(`${what} failed (exit ${r.code}): ${failed(r)}`);
    return r;
  };
  let gl = '';
  try {
    gl = glusterLib();
    // namespace files need a private mount; the clients' mount points a shared one
    await sh(['sh', '-c', `mount --bind ${q(nsDir)} ${q(nsDir)} && mount --make-private ${q(nsDir)} && ` +
      `mount --bind ${q(mntDir)} ${q(mntDir)} && mount --make-shared ${q(mntDir)}`], 'private/shared bind mounts');
    const hostScript = (n: Ns) => ['set -e', `hostname ${n.name}`,
      `mount --bind ${q(hostsFile)} /etc/hosts`,
      `mount --bind ${q(path.join(n.root, 'run'))} /run`,
      `mount --bind ${q(path.join(n.root, 'log'))} /var/log/glusterfs`,
      ...(n.server ? [
        `cp -a /var/lib/glusterd/groups /var/lib/glusterd/hooks ${q(path.join(n.root, 'lib'))}/`,
        `mount --bind ${q(path.join(n.root, 'lib'))} /var/lib/glusterd`,
        `mount --bind ${q(path.join(n.root, 'bricks'))} ${q(brickRoot)}`,
        `mount -t overlay overlay -o lowerdir=${gl},upperdir=${q(path.join(n.root, 'xl-upper'))},workdir=${q(path.join(n.root, 'xl-work'))} ${gl}`,
        `mkdir -p ${gl}/filter`, `mount --bind ${q(path.join(n.root, 'filter'))} ${gl}/filter`,
      ] : []),
      'ip link set lo up'].join('\n');
    await Promise.all([
      sh(['unshare', `--net=${s.switchNet}`, 'sh', '-c', 'ip link set lo up'], 'switch namespace'),
      ...nss.map((n) => sh(['unshare', `--net=${n.net}`, `--uts=${n.uts}`, `--mount=${n.mnt}`,
        `--propagation=${n.server ? 'private' : 'unchanged'}`, 'sh', '-c', hostScript(n)], `${n.name}: namespaces`)),
    ]);
    if (opts.rttMs === undefined) {
      const script = ['set -e', 'ip link add br0 type bridge', 'ip link set br0 up',
        ...nss.flatMap((n) => [`ip link add ${n.link} type veth peer name eth0 netns ${q(n.net)}`, `ip link set ${n.link} master br0 up`,
          `nsenter --net=${q(n.net)} sh -c 'ip addr add ${n.ip}/24 dev eth0 && ip link set eth0 up'`])].join('\n');
      await sh(['nsenter', `--net=${s.switchNet}`, 'sh', '-c', script], 'the bridge and veth links');
    } else {
      s.wan = await startWanSwitch(s, opts.rttMs);
    }
    // glusterd on every server host, in parallel
    await Promise.all(hosts.map((h) => startGlusterd(h)));
    const cl = makeCluster(s, hosts, clients, volume);
    // peers: probe the others from h1, then h1 from h2 (so that peers know h1 by name)
    for (const h of hosts.slice(1)) await cl.gluster(['peer', 'probe', h.name], { host: 'h1' });
    if (hosts.length > 1) await cl.gluster(['peer', 'probe', 'h1'], { host: 'h2' });
    await waitPeers(cl, hosts);
    // bricks round-robin over the hosts: each replica set spans hosts
    const nb = replica * sets;
    cl.bricks.push(...Array.from({ length: nb }, (_, i) => {
      const h = hosts[i % hosts.length], p = path.join(brickRoot, `${volume}-b${Math.floor(i / hosts.length)}`);
      return { host: h.name, path: p, dir: path.join(h.root, 'bricks', path.basename(p)), log: path.join(h.root, 'log', 'bricks', `${p.slice(1).replace(/\//g, '-')}.log`), statedump: brickStatedump(h, p) };
    }));
    for (let i = 0; i < nb; i += replica) cl.replicaSets.push(cl.bricks.slice(i, i + replica));
    for (const b of cl.bricks) fs.mkdirSync(b.dir, { recursive: true });
    await cl.gluster(['volume', 'create', volume, ...(replica > 1 ? ['replica', String(replica)] : []),
      ...cl.bricks.map((b) => `${b.host}:${b.path}`), 'force']);
    const set: Array<[string, string]> = [['network.ping-timeout', '5']];
    if (replica > 1) set.push(['cluster.heal-timeout', '10']);
    for (const [k, v] of Object.entries(opts.options ?? {})) set.push([k, v]);
    // one transaction for several options; the filter looks at features.cache-invalidation as it is
    await cl.gluster(['volume', 'set', volume, ...set.flat()]);
    const bm = opts.brick?.[0];
    // installed on every host, then one regeneration (the brick options', or the filter's own)
    if (opts.client?.[0]) await cl.installFilter(opts.client[0], !bm);
    if (bm) {
      const bs: Array<[string, string]> = [['user.xlator.glujs.module', path.resolve(bm.module)]];
      for (const [k, v] of Object.entries(bm.options ?? {})) bs.push([`user.xlator.glujs.${k}`, String(v === true ? 'on' : v === false ? 'off' : v)]);
      bs.push(['user.xlator.glujs', 'io-threads']);
      await cl.gluster(['volume', 'set', volume, ...bs.flat()]);
    }
    // a start whose commit failed on a peer has still started the volume there: `start force` starts what is missing
    if ((await cl.gluster(['volume', 'start', volume], { check: false, timeoutMs: 60000 })).code !== 0) {
      await cl.gluster(['volume', 'start', volume, 'force']);
    }
    await waitBricks(cl, hosts, 30000);
    await Promise.all(clients.map(async (c) => cl.mounts.push(await mount(s, c, hosts, volume, opts.mountOptions ?? []))));
    cl.mounts.sort((a, b) => a.host.localeCompare(b.host, undefined, { numeric: true }));
    cl.setupMs = Date.now() - t0;
    return cl;
  } catch (e) {
    const logs = hosts.map((h) => {
      const errs = readText(path.join(h.root, 'log', 'glusterd.log')).split('\n').filter((l) => /\] [EC] /.test(l)).slice(-5);
      return errs.length ? `--- ${h.name} glusterd.log ---\n${errs.join('\n')}` : '';
    }).filter(Boolean).join('\n');
    teardownSync(s);
    throw e instanceof ClusterError ? new ClusterError(`${e.message}\n${logs}`) : e;
  }
}

const glusterdVol = (h: Ns) => path.join(h.root, 'glusterd.vol');

async function startGlusterd(h: Ns): Promise<void> {
  if (!fs.existsSync(glusterdVol(h))) {
    fs.writeFileSync(glusterdVol(h), ['volume management', '    type mgmt/glusterd',
      '    option working-directory /var/lib/glusterd', '    option transport-type socket',
      '    option transport.socket.keepalive-time 10', '    option transport.socket.keepalive-interval 2',
      '    option transport.socket.read-fail-log off', '    option transport.socket.listen-port 24007',
      '    option ping-timeout 10', '    option event-threads 1', '    option max-port 60999', 'end-volume', ''].join('\n'));
  }
  const r = await h.exec('glusterd', ['-f', glusterdVol(h), '-p', '/run/glusterd.pid', '-l', '/var/log/glusterfs/glusterd.log']);
  if (r.code !== 0) throw new ClusterError(`${h.name}: glusterd exited ${r.code}: ${failed(r)}`);
  for (const end = Date.now() + 30000 * SLOW; Date.now() < end; await sleep(100)) {
    if ((await h.exec('gluster', ['--mode=script', 'system::', 'getwd'], { timeoutMs: 10000 })).code === 0) return;
  }
  throw new ClusterError(`${h.name}: glusterd did not answer within 30 s`);
}

/** A brick's statedumps, one at a time; its glusterfsd is looked up by --brick-name each time (a restarted host has a new one). */
function brickStatedump(h: Ns, brickPath: string): () => Promise<string> {
  const dumps = path.join(h.root, 'dumps'), optFiles = new Set<string>();
  let queue: Promise<unknown> = Promise.resolve();
  const arg = (pid: number) => readText(`/proc/${pid}/cmdline`).split('\0');
  return () => (queue = queue.catch(() => undefined).then(() => {
    const pid = h.pids().find((x) => readText(`/proc/${x}/comm`).trim() === 'glusterfsd' && arg(x).includes(brickPath));
    if (!pid) throw new ClusterError(`no glusterfsd serves ${h.name}:${brickPath}`);
    fs.mkdirSync(dumps, { recursive: true });
    // the brick looks for its options file in its own /run/gluster
    return statedump({ pidFile: '', pid, mark: brickPath }, dumps, optFiles, path.join(h.root, 'run', 'gluster'));
  })) as Promise<string>;
}

async function waitPeers(cl: Cluster, hosts: Ns[]): Promise<void> {
  for (const end = Date.now() + 30000 * SLOW; ; await sleep(200)) {
    let ok = true;
    for (const h of hosts) {
      const r = await cl.gluster(['peer', 'status'], { host: h.name, check: false, timeoutMs: 10000 });
      if ((r.out.match(/State: Peer in Cluster \(Connected\)/g) ?? []).length !== hosts.length - 1) { ok = false; break; }
    }
    if (ok) return;
    if (Date.now() > end) throw new ClusterError('peers did not all become "Peer in Cluster (Connected)" within 30 s');
  }
}

interface BrickStatus { host: string; path: string; online: boolean; pid: number; }
function parseStatus(xml: string): BrickStatus[] {
  return [...xml.matchAll(/<node>([\s\S]*?)<\/node>/g)].map((m) => {
    const f = (k: string) => new RegExp(`<${k}>([^<]*)</${k}>`).exec(m[1])?.[1] ?? '';
    return { host: f('hostname'), path: f('path'), online: f('status') === '1', pid: Number(f('pid')) || 0 };
  }).filter((b) => b.path.startsWith('/'));
}

/** Until every brick on `hosts` is online, as glusterd of the first of them sees it. */
async function waitBricks(cl: Cluster, hosts: Ns[], ms: number): Promise<void> {
  const want = cl.bricks.filter((b) => hosts.some((h) => h.name === b.host));
  let last = '';
  for (const end = Date.now() + ms * SLOW; Date.now() < end; await sleep(200)) {
    const r = await cl.gluster(['volume', 'status', cl.volume, '--xml'], { host: hosts[0].name, check: false, timeoutMs: 15000 });
    const st = parseStatus(r.out);
    last = JSON.stringify(st);
    if (want.every((b) => st.some((x) => x.host === b.host && x.path === b.path && x.online && x.pid > 0))) return;
  }
  throw new ClusterError(`bricks of ${cl.volume} on ${hosts.map((h) => h.name).join(',')} did not come up within ${ms} ms: ${last}`);
}

async function mount(s: State, c: Ns, hosts: Ns[], volume: string, extra: string[]): Promise<ClusterMount> {
  const dir = path.join(s.mntDir, c.name), log = path.join(c.root, 'log', 'mnt.log'), pidFile = path.join(c.root, 'client.pid');
  fs.mkdirSync(dir);
  s.mounts.push(dir);
  const r = await c.exec('glusterfs', [...hosts.map((h) => `--volfile-server=${h.name}`), `--volfile-id=${volume}`,
    '-l', log, '--pid-file', pidFile, ...extra, dir], { timeoutMs: 30000 });
  for (const end = Date.now() + 20000 * SLOW; Date.now() < end && r.code === 0; await sleep(50)) {
    if (mountType(dir) === 'fuse.glusterfs' && (await run('stat', ['-c', '%i', dir], 10000)).code === 0) {
      const d: Daemon = { pidFile, pid: readPid(pidFile), mark: dir };
      const dumps = path.join(c.root, 'dumps'), optFiles = new Set<string>();
      fs.mkdirSync(dumps, { recursive: true });
      let queue: Promise<unknown> = Promise.resolve();
      return {
        host: c.name, dir, log, pid: d.pid, logText: () => readText(log),
        // the client looks for its options file in its own /run/gluster
        statedump: () => (queue = queue.catch(() => undefined).then(() => statedump(d, dumps, optFiles, path.join(c.root, 'run', 'gluster')))) as Promise<string>,
      };
    }
  }
  const errs = readText(log).split('\n').filter((l) => /\] [EC] /.test(l)).slice(-10).join('\n');
  throw new ClusterError(`${c.name}: mount of ${volume} at ${dir} did not come up (glusterfs exit ${r.code}: ${failed(r)})\n${errs}`);
}

/** The userspace switch: one TAP per host, moved into the host's namespace as eth0. */
async function startWanSwitch(s: State, rttMs: number): Promise<ChildProcess> {
  const taps = s.nss.map((n) => `t-${n.name}`);
  const p = spawn('nsenter', [`--net=${s.switchNet}`, '--', 'python3', WAN_SWITCH, String(rttMs / 2), ...taps], { stdio: ['pipe', 'pipe', 'pipe'] });
  let err = '';
  p.stderr!.on('data', (b) => { err += b; });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new ClusterError(`wan-switch did not start within 10 s: ${err}`)), 10000);
    p.stdout!.on('data', (b) => { out += b; if (out.includes('ready\n')) { clearTimeout(timer); resolve(); } });
    p.once('exit', (code) => { clearTimeout(timer); reject(new ClusterError(`wan-switch exited ${code}: ${err}`)); });
  });
  p.removeAllListeners('exit');
  const script = ['set -e', ...s.nss.flatMap((n, i) => [`ip link set ${taps[i]} netns ${q(n.net)}`,
    `nsenter --net=${q(n.net)} sh -c 'ip link set ${taps[i]} name eth0 && ip link set eth0 mtu 9000 && ip addr add ${n.ip}/24 dev eth0 && ip link set eth0 up'`])].join('\n');
  const r = await run('nsenter', [`--net=${s.switchNet}`, 'sh', '-c', script], 30000);
  if (r.code !== 0) throw new ClusterError(`wan-switch: moving the TAP devices failed: ${failed(r)}`);
  return p;
}

function makeCluster(s: State, hosts: Ns[], clients: Ns[], volume: string): Cluster {
  const byName = (h: string) => {
    const n = s.nss.find((x) => x.name === h);
    if (!n) throw new ClusterError(`no host ${JSON.stringify(h)} (hosts: ${s.nss.map((x) => x.name).join(', ')})`);
    return n;
  };
  const down = new Set<string>();
  const gluster: Cluster['gluster'] = async (args, o = {}) => {
    const h = byName(o.host ?? hosts.find((x) => !down.has(x.name))?.name ?? hosts[0].name);
    let r: Run = { code: null, out: '', err: '' };
    for (const end = Date.now() + (o.timeoutMs ?? 60000) * SLOW; ;) {
      r = await h.exec('gluster', ['--mode=script', ...args], { timeoutMs: Math.max(1000, end - Date.now()) / SLOW });
      if (r.code === 0 || o.check === false || !RETRY.test(failed(r)) || Date.now() > end - 2000) break;
      await sleep(1000);
    }
    if (r.code !== 0 && o.check !== false) throw new ClusterError(`${h.name}: gluster ${args.join(' ')} failed (exit ${r.code}): ${failed(r)}`);
    return r;
  };
  const setLink = async (h: string, up: boolean) => {
    const n = byName(h);
    if (s.wan) {
      s.wan.stdin!.write(`${up ? 'unblock' : 'block'} t-${n.name}\n`);
      return;
    }
    const r = await run('nsenter', [`--net=${s.switchNet}`, 'ip', 'link', 'set', n.link, up ? 'up' : 'down'], 10000);
    if (r.code !== 0) throw new ClusterError(`${up ? 'heal' : 'partition'} ${h}: ${failed(r)}`);
  };
  /** `glujs filter ARGS` on every server that is up; the last one regenerates, once every host has its filter. */
  const filterEverywhere = async (args: string[], regenerate: boolean) => {
    const cli = path.resolve(__dirname, '..', 'tools', 'cli.js');
    // per host: the config in its own /var/lib/glusterd (not the machine's /etc/glusterfs)
    const env = { ...process.env, GLUJS_FILTER_CONFIG: '/var/lib/glusterd/glujs-filter.json', GLUJS_GLUSTER_TIMEOUT_MS: String(60000 * SLOW) };
    const one = async (h: Ns, regen: boolean) => {
      const r = await h.exec(process.execPath, [cli, 'filter', ...args, ...(regen ? [] : ['--no-regenerate'])], { env, timeoutMs: 60000 });
      if (r.code !== 0) throw new ClusterError(`${h.name}: glujs filter ${args[0]} failed (exit ${r.code}): ${failed(r)}`);
    };
    const up = hosts.filter((h) => !down.has(h.name));
    await Promise.all(up.slice(0, -1).map((h) => one(h, false)));
    await one(up[up.length - 1], regenerate);
  };
  let stopping: Promise<void> | undefined;
  const cl: Cluster = {
    dir: s.dir, volume, hosts, clients, bricks: [], replicaSets: [], mounts: [], setupMs: 0, wanPid: s.wan?.pid,
    gluster,
    set: (key, value) => gluster(['volume', 'set', volume, key, value]),
    installFilter: (m, regenerate = true) => filterEverywhere(['install', '--volume', volume, '--module', path.resolve(m.module),
      ...Object.entries(m.options ?? {}).flatMap(([k, v]) => ['--option', `${k}=${v}`]),
      ...(process.env.GLUJS_TYPE ? ['--type', process.env.GLUJS_TYPE] : [])], regenerate),
    uninstallFilter: (regenerate = true) => filterEverywhere(['uninstall', '--volume', volume], regenerate),
    brickLog: (h) => cl.bricks.filter((b) => !h || b.host === h).map((b) => readText(b.log)).join('\n'),
    async killHost(h) {
      const n = byName(h);
      down.add(n.name);
      killAll(n.pids(), 'SIGKILL');
      for (const end = Date.now() + 10000; n.pids().length; await sleep(20)) {
        if (Date.now() > end) throw new ClusterError(`killHost ${h}: pids ${n.pids().join(',')} still alive after SIGKILL`);
      }
    },
    async startHost(h) {
      const n = byName(h);
      if (!n.server) throw new ClusterError(`startHost ${h}: not a server host`);
      // brick pid files and sockets of the killed processes would make glusterd think they run
      fs.rmSync(path.join(n.root, 'run', 'gluster'), { recursive: true, force: true });
      fs.rmSync(path.join(n.root, 'run', 'glusterd.pid'), { force: true });
      await startGlusterd(n);
      down.delete(n.name);
      await waitBricks(cl, [n], 30000);
      await cl.waitMounts([n.name]);
    },
    partition: async (h) => { await setLink(h, false); down.add(h); },
    heal: async (h) => { await setLink(h, true); down.delete(h); await cl.waitMounts([h]); },
    async waitMounts(names = hosts.map((h) => h.name), ms = 30000) {
      const want = cl.bricks.map((b, i) => ({ b, i })).filter(({ b }) => names.includes(b.host));
      let last = '';
      for (const end = Date.now() + ms * SLOW; ; await sleep(250)) {
        const dumps = await Promise.all(cl.mounts.map((m) => m.statedump()));
        const off = dumps.flatMap((d, k) => want.filter(({ i }) => !new RegExp(`^\\[xlator\\.protocol\\.client\\.${volume}-client-${i}\\.priv\\]\\nconnected=1$`, 'm').test(d))
          .map(({ b }) => `${cl.mounts[k].host} -> ${b.host}:${b.path}`));
        if (!off.length) return;
        last = off.join(', ');
        if (Date.now() > end) throw new ClusterError(`mounts not connected within ${ms} ms: ${last}`);
      }
    },
    async healVolume(timeoutMs = 120000) {
      const t = Date.now();
      if (cl.replicaSets[0]?.length < 2) return { ms: 0 };
      let last = '';
      for (let kicked = 0; ; await sleep(500)) {
        if (Date.now() - kicked > 10000) {
          await gluster(['volume', 'heal', volume], { check: false, timeoutMs: 20000 });
          kicked = Date.now();
        }
        const r = await gluster(['volume', 'heal', volume, 'info'], { check: false, timeoutMs: 30000 });
        last = r.out;
        const connected = (r.out.match(/^Status: Connected$/gm) ?? []).length;
        const entries = [...r.out.matchAll(/^Number of entries: (\S+)$/gm)].map((m) => m[1]);
        if (r.code === 0 && connected === cl.bricks.length && entries.length === cl.bricks.length && entries.every((e) => e === '0')) return { ms: Date.now() - t };
        if (Date.now() - t > timeoutMs) throw new ClusterError(`healVolume: not healed within ${timeoutMs} ms:\n${last}`);
      }
    },
    stop: () => (stopping ??= (async () => { await sleep(0); teardownSync(s); })()),
  };
  return cl;
}

/**
 * node:test helper: start a cluster for test `t` and tear it down in `t.after` (also on
 * process exit or SIGINT/SIGTERM), whether or not the test passes.
 */
export async function withCluster(t: TestContext, opts?: ClusterOptions): Promise<Cluster> {
  const c = await startCluster(opts);
  t.after(() => c.stop());
  return c;
}
