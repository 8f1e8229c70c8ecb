// glujs's NLC (examples/nlc.ts in the client graph by `glujs filter`, as withCluster's
// `client:` puts it) against GlusterFS's own nl-cache (`performance.nl-cache on`) on a
// real multi-host cluster (lib/testing/cluster.ts: 3 server hosts, 1 client host, each
// in its own namespaces), replica 3 and 2x3, through the emulated WAN (wan-switch.py)
// at several round trips, on the include-path workload of bench/nlc-bench.ts
// (bench/include-path.ts).
//
//   node dist/bench/cluster-bench.js [--rounds N] [--warm N] [--rtts 0.25,1] [--layouts 'replicate 3',2x3]
//                                    [--nl-cache-positive-entry on|off] [--quick]
//
// One cluster per (layout, RTT). Both configurations run on it, switched by a graph
// switch of the live mount: glujs-nlc = the filter installed on every server and
// performance.nl-cache off; nl-cache = the filter uninstalled and performance.nl-cache
// on (one `gluster volume set` regenerates the volfiles, the client fetches the new one).
// A switch counts only once the mount log says "switched to graph N" for a new graph
// whose volfile has the one cache and not the other, every protocol/client of the
// active graph is connected, and later the cache's own hit counter rose during the run
// while the other's did not: otherwise the benchmark fails. After each switch: one
// cold run (empty cache, new graph), --warm runs (3; the figures), negative hits. A round
// = nl-cache then glujs-nlc, strictly alternating, so every measurement follows a switch.
// Output: markdown on stdout and in bench/results/cluster.md; progress on stderr.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startCluster, type Cluster } from '../lib/testing';
import { readText, sleep } from '../lib/testing/proc';
import { cumulative, delta, describeWorkload, f1, f2, median, negativeHits, runRequests, setUp, sumFops, N_REQUESTS, type FopCounts, type Timing } from './include-path';
import { publish, runMain, UsageError } from './run';
import { tcpRoundTrip } from './wan-rtt';

const ROOT = path.resolve(__dirname, '..', '..'); // run from dist/bench
const NLC_TS = path.join(ROOT, 'examples', 'nlc.ts');
const RESULTS = path.join(ROOT, 'bench', 'results', 'cluster.md');
const VOLUME = 'gv';
const T0 = Date.now();
const log = (s: string) => process.stderr.write(`[${((Date.now() - T0) / 1000).toFixed(0)} s] ${s}\n`);
const load1 = () => Number(fs.readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);

// ---------------------------------------------------------------- arguments
interface Opts { rounds: number; warm: number; rtts: number[]; layouts: string[]; positiveEntry: 'on' | 'off'; quick: boolean; }
function parseArgs(argv: string[]): Opts {
  const o: Opts = { rounds: 10, warm: 3, rtts: [0.25, 1], layouts: ['replicate 3', '2x3'], positiveEntry: 'off', quick: false };
  let roundsGiven = false, rttsGiven = false;
  const usage = "usage: cluster-bench [--rounds N] [--warm N] [--rtts 0.25,1] [--layouts 'replicate 3',2x3] [--nl-cache-positive-entry on|off] [--quick]";
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i], v = argv[i + 1];
    if (a === '--quick') o.quick = true;
    else if (a === '--rounds' && v !== undefined && Number.isInteger(+v) && +v >= 1) { o.rounds = +v; roundsGiven = true; i++; }
    else if (a === '--warm' && v !== undefined && Number.isInteger(+v) && +v >= 1) { o.warm = +v; i++; }
    else if (a === '--rtts' && v !== undefined && v.split(',').every((x) => x !== '' && Number.isFinite(+x) && +x >= 0)) { o.rtts = v.split(',').map(Number); rttsGiven = true; i++; }
    else if (a === '--layouts' && v !== undefined && v.split(',').every((x) => /^(replicate \d+|distribute \d+|\d+x\d+)$/.test(x))) { o.layouts = v.split(','); i++; }
    else if (a === '--nl-cache-positive-entry' && (v === 'on' || v === 'off')) { o.positiveEntry = v; i++; }
    else throw new UsageError(`${usage}\n(bad argument: ${a}${v !== undefined ? ` ${v}` : ''})`);
  }
  if (o.quick) { if (!roundsGiven) o.rounds = 2; if (!rttsGiven) o.rtts = [0.25]; }
  return o;
}

// ---------------------------------------------------------------- configurations
interface Config {
  id: 'nl-cache' | 'glujs-nlc';
  /** the cache's xlator type in the client volfile */
  type: string;
  /** its hits so far, summed over its statedump sections (every graph the dump shows) */
  hits(dump: string): number;
}
/** Lines `key=N` inside the statedump sections whose header matches `section`, summed. */
function sectionSum(dump: string, section: RegExp, key: string): number {
  let sum = 0;
  for (const part of dump.split(/^(?=\[)/m)) {
    const head = /^\[([^\]\n]*)\]/.exec(part)?.[1];
    if (!head || !section.test(head)) continue;
    for (const m of part.matchAll(new RegExp(`^(?:${key})=(\\d+)$`, 'gm'))) sum += Number(m[1]);
  }
  return sum;
}
const NL_CACHE: Config = { id: 'nl-cache', type: 'performance/nl-cache', hits: (d) => sectionSum(d, /^performance\/nl-cache\.|^xlator\.performance\.nl-cache\./, 'nlc_hit|negative_lookup_hit_count') };
// with fast on (the default) every hit is answered natively and counted in fast_hits, live (JS's own counters lag 1 s)
const GLUJS: Config = { id: 'glujs-nlc', type: 'features/glujs', hits: (d) => sectionSum(d, /^xlator\.features\.glujs\..*\.priv$/, 'fast_hits') };
const CONFIGS = [NL_CACHE, GLUJS];
/** Fewest cache hits a run of either kind must show (a warm run has ~4400 negative lookups, a cold one ~4000 after the first misses). */
const MIN_HITS = 1000;

// ---------------------------------------------------------------- the cluster's processes
const cmdline = (pid: number) => readText(`/proc/${pid}/cmdline`).split('\0');
const comm = (pid: number) => readText(`/proc/${pid}/comm`).trim();

/** io-stats counters of every brick (its statedump), summed. */
async function brickCounts(c: Cluster): Promise<FopCounts> {
  const per = await Promise.all(c.bricks.map(async (b) => cumulative(await b.statedump(), b.path)));
  const sum = new Map<string, number>();
  for (const m of per) for (const [k, v] of m) sum.set(k, (sum.get(k) ?? 0) + v);
  return sum;
}

/** Resident memory per kind of process, KiB. */
interface MemKind { n: number; rss: number; pss: number; }
type Mem = Record<string, MemKind>;
const MEM_KINDS = ['glusterd', 'brick glusterfsd', 'self-heal glusterfs', 'client glusterfs', 'WAN switch'];
function kib(pid: number, file: string, key: string): number {
  return Number(new RegExp(`^${key}:\\s+(\\d+) kB$`, 'm').exec(readText(`/proc/${pid}/${file}`))?.[1] ?? NaN);
}
function memory(c: Cluster): Mem {
  const m: Mem = Object.fromEntries(MEM_KINDS.map((k) => [k, { n: 0, rss: 0, pss: 0 }]));
  const add = (kind: string, pid: number) => {
    const rss = kib(pid, 'status', 'VmRSS'), pss = kib(pid, 'smaps_rollup', 'Pss');
    if (!Number.isFinite(rss)) return; // gone
    m[kind].n++; m[kind].rss += rss; m[kind].pss += pss;
  };
  for (const h of c.hosts) for (const p of h.pids()) {
    const k = comm(p);
    if (k === 'glusterd') add('glusterd', p);
    else if (k === 'glusterfsd') add('brick glusterfsd', p);
    else if (k === 'glusterfs' && cmdline(p).some((a) => a.includes('glustershd'))) add('self-heal glusterfs', p);
  }
  for (const h of c.clients) for (const p of h.pids()) if (comm(p) === 'glusterfs') add('client glusterfs', p);
  if (c.wanPid) add('WAN switch', c.wanPid);
  return m;
}
const memTotal = (m: Mem, k: 'rss' | 'pss') => Object.values(m).reduce((a, x) => a + x[k], 0);

// ---------------------------------------------------------------- switching configurations
/** Keep what shows a failure where the cluster's teardown does not remove it; returns the file. */
function evidence(what: string, text: string): string {
  const f = path.join(os.tmpdir(), `cluster-bench-${process.pid}-${what}.txt`);
  fs.writeFileSync(f, text);
  return f;
}
const graphIds = (text: string) => [...text.matchAll(/switched to graph (\d+)/g)].map((m) => Number(m[1]));
/** The xlators (name: type) of the last "Final graph" the client logged, top first. */
function lastGraph(text: string): Array<{ name: string; type: string }> {
  const at = text.lastIndexOf('Final graph:');
  if (at < 0) return [];
  const out: Array<{ name: string; type: string }> = [];
  let name = '';
  for (const line of text.slice(at).split('\n').slice(1)) {
    if (/^\+-+\+?$/.test(line.trim()) && out.length) break;
    const v = /^\s*\d+: volume (\S+)/.exec(line), t = /^\s*\d+:\s+type (\S+)/.exec(line);
    if (v) name = v[1];
    else if (t) out.push({ name, type: t[1] });
  }
  return out.reverse();
}

interface Switch { ms: number; graph: number; stack: string; }
/** Make `cfg` the active client graph, and check that it is. */
async function activate(c: Cluster, cfg: Config): Promise<Switch> {
  const t0 = Date.now(), m = c.mounts[0];
  const before = Math.max(-1, ...graphIds(m.logText()));
  if (cfg === GLUJS) {
    await c.installFilter({ module: NLC_TS }, false);
    await c.set('performance.nl-cache', 'off'); // regenerates: every glusterd filters, the mount switches
  } else {
    await c.uninstallFilter(false);
    await c.set('performance.nl-cache', 'on');
  }
  // fuse-bridge takes a new graph between two requests: a lookup of a missing name (never cached) makes one
  let graph = -1, probe = 0;
  for (const end = Date.now() + 60000; (graph = Math.max(-1, ...graphIds(m.logText()))) <= before; await sleep(50)) {
    if (Date.now() > end) throw new Error(`${cfg.id}: the mount did not switch to a new graph within 60 s (last: ${before}); its log: ${evidence('mount-log', m.logText())}`);
    await fs.promises.lstat(path.join(m.dir, `.switch-probe-${probe++}`)).catch(() => undefined);
  }
  await c.waitMounts();
  const stack = lastGraph(m.logText());
  const types = new Set(stack.map((x) => x.type));
  const other = CONFIGS.find((x) => x !== cfg)!;
  if (!types.has(cfg.type) || types.has(other.type)) {
    throw new Error(`${cfg.id}: the new client graph ${graph} is not the one wanted (${cfg.type} without ${other.type}): ${stack.map((x) => x.type).join(' > ')}; its log: ${evidence('mount-log', m.logText())}`);
  }
  const dump = await m.statedump();
  if (process.env.CLUSTER_BENCH_DUMPS === '1') evidence(`client-dump-${cfg.id}-graph-${graph}`, dump); // env: for looking at what is checked
  if (cfg === GLUJS && !dump.split('\n').includes(`module=${NLC_TS}`)) {
    const f = evidence('client-dump-after-switch', dump);
    throw new Error(`${cfg.id}: the client statedump shows no glujs instance running ${NLC_TS} (statedump: ${f})`);
  }
  return { ms: Date.now() - t0, graph, stack: stack.filter((x) => !/^protocol\/client$/.test(x.type)).map((x) => x.type).join(' > ') };
}

// ---------------------------------------------------------------- one run
interface RunResult extends Timing { statAvg: number; lookups: number; fops: number; mix: FopCounts; hits: number; }
async function measuredRun(c: Cluster, cfg: Config, what: string): Promise<RunResult> {
  const m = c.mounts[0], other = CONFIGS.find((x) => x !== cfg)!;
  const [b0, d0] = await Promise.all([brickCounts(c), m.statedump()]);
  const r = runRequests(m.dir, 'full');
  const [b1, d1] = await Promise.all([brickCounts(c), m.statedump()]);
  const d = delta(b0, b1), hits = cfg.hits(d1) - cfg.hits(d0), otherHits = other.hits(d1) - other.hits(d0);
  if (hits < MIN_HITS || otherHits > 0) {
    const f = evidence('client-dump-after-failed-run', d1);
    throw new Error(`${cfg.id} ${what} run: ${hits} hits of ${cfg.id} (want >= ${MIN_HITS}), ${otherHits} of ${other.id} (want 0): the wrong cache answered (statedump: ${f})`);
  }
  return { ...r.all, statAvg: r.phase.avg, lookups: (d.get('LOOKUP') ?? 0) / N_REQUESTS, fops: sumFops(d) / N_REQUESTS, mix: d, hits };
}

/** Several warm runs of one round as one: means of their means and counts, medians of their percentiles. */
function combine(runs: RunResult[]): RunResult {
  const mean = (k: 'avg' | 'statAvg' | 'lookups' | 'fops' | 'totalMs') => runs.reduce((a, r) => a + r[k], 0) / runs.length;
  const mix: FopCounts = new Map();
  for (const r of runs) for (const [k, v] of r.mix) mix.set(k, (mix.get(k) ?? 0) + v / runs.length);
  return { min: Math.min(...runs.map((r) => r.min)), max: Math.max(...runs.map((r) => r.max)), p50: median(runs.map((r) => r.p50)), p99: median(runs.map((r) => r.p99)),
    avg: mean('avg'), statAvg: mean('statAvg'), lookups: mean('lookups'), fops: mean('fops'), totalMs: mean('totalMs'), mix, hits: runs.reduce((a, r) => a + r.hits, 0) };
}

// ---------------------------------------------------------------- one cluster
interface CfgResult { cfg: Config; cold: RunResult[]; warm: RunResult[]; negHit: Array<{ p50: number; p90: number; hits: number }>; switches: Switch[]; mem?: Mem; }
interface Phase {
  layout: string; rtt: number; setupMs: number; bricks: number; tcp: { p50: number; p99: number };
  idleLookupsPerS: number; memStart: Mem; memEnd?: Mem; results: CfgResult[]; loads: number[]; wallS: number;
}

async function phase(layout: string, rtt: number, opt: Opts): Promise<Phase> {
  const t0 = Date.now();
  log(`${layout}, RTT ${rtt} ms: starting the cluster`);
  const c = await startCluster({
    hosts: 3, layout, clients: 1, rttMs: rtt, volume: VOLUME,
    client: [{ module: NLC_TS }],
    options: {
      'features.cache-invalidation': 'on',
      'performance.nl-cache-positive-entry': opt.positiveEntry,
      // the bricks' io-stats count fops in their statedumps only with these
      'diagnostics.latency-measurement': 'on', 'diagnostics.count-fop-hits': 'on',
    },
  });
  try {
    log(`${layout}, RTT ${rtt} ms: up in ${c.setupMs} ms`);
    const tcp = await tcpRoundTrip(c.clients[0], c.hosts[0]);
    setUp(c.mounts[0].dir);
    const memStart = memory(c);
    // what the bricks see with nothing running (self-heal daemon crawls, glusterd)
    const i0 = await brickCounts(c);
    await sleep(5000);
    const idleLookupsPerS = ((delta(i0, await brickCounts(c)).get('LOOKUP') ?? 0)) / 5;
    const ph: Phase = { layout, rtt, setupMs: c.setupMs, bricks: c.bricks.length, tcp, idleLookupsPerS, memStart, loads: [], wallS: 0,
      results: CONFIGS.map((cfg) => ({ cfg, cold: [], warm: [], negHit: [], switches: [] })) };
    log(`${layout}, RTT ${rtt} ms: TCP RTT c1 -> h1 p50 ${f1(tcp.p50)} µs; idle brick LOOKUPs ${f1(idleLookupsPerS)}/s`);
    for (let round = 0; round < opt.rounds; round++) {
      for (const res of ph.results) {
        const sw = await activate(c, res.cfg);
        res.switches.push(sw);
        res.cold.push(await measuredRun(c, res.cfg, 'cold'));
        const warm: RunResult[] = [];
        for (let k = 0; k < opt.warm; k++) warm.push(await measuredRun(c, res.cfg, 'warm'));
        res.warm.push(combine(warm));
        const h0 = res.cfg.hits(await c.mounts[0].statedump());
        const nh = negativeHits(c.mounts[0].dir);
        res.negHit.push({ ...nh, hits: res.cfg.hits(await c.mounts[0].statedump()) - h0 });
        if (round === 0) res.mem = memory(c);
      }
      ph.loads.push(load1());
      log(`${layout}, RTT ${rtt} ms, round ${round + 1}/${opt.rounds} (load ${ph.loads[ph.loads.length - 1]}): ` + ph.results.map((res) => {
        const w = res.warm[round], cold = res.cold[round];
        const nh = res.negHit[round];
        return `${res.cfg.id} ${f1(w.avg * 1000)} µs ${f2(w.lookups)} L (cold ${f1(cold.avg * 1000)} µs ${f2(cold.lookups)} L, switch ${f1(res.switches[round].ms / 1000)} s, neg. hit p50 ${f1(nh.p50)} µs, ${nh.hits} counted)`;
      }).join(' | '));
    }
    ph.memEnd = memory(c);
    ph.wallS = (Date.now() - t0) / 1000;
    return ph;
  } finally {
    await c.stop();
  }
}

// ---------------------------------------------------------------- report
const us = (ms: number) => f1(ms * 1000);
const ratio = (a?: number, b?: number) => (a !== undefined && b !== undefined && b > 0 ? a / b : NaN);
const mb = (k: number) => f1(k / 1024);
const lay = (ph: Phase) => (ph.layout === 'replicate 3' ? 'replica 3' : ph.layout);
const spread = (xs: number[]) => (xs.length ? `${f2(Math.min(...xs))}..${f2(Math.max(...xs))}` : '–');

function report(opt: Opts, phases: Phase[], meta: Record<string, string>): string {
  const L: string[] = [];
  const res = (ph: Phase, id: string) => ph.results.find((r) => r.cfg.id === id)!;
  const med = (runs: RunResult[], k: 'avg' | 'p50' | 'p99' | 'statAvg' | 'lookups' | 'fops') => median(runs.map((r) => r[k]));
  const paired = (ph: Phase, k: 'avg' | 'p50') => res(ph, 'glujs-nlc').warm.map((x, i) => ratio(x[k], res(ph, 'nl-cache').warm[i]?.[k])).filter(Number.isFinite);
  const label = (ph: Phase) => `${lay(ph)}, RTT ${ph.rtt} ms`;

  L.push('# glujs NLC vs GlusterFS nl-cache on a cluster (include-path workload)', '');
  const failed = meta['FAILED phases (not in the tables)'];
  if (failed) L.push(`**FAILED: ${failed}**`, '');
  if (opt.rounds < 10) L.push(`**Short run: ${opt.rounds} rounds${opt.quick ? ' (--quick)' : ''}; the default is 10.**`, '');
  L.push('## Summary', '');
  L.push('glujs-nlc vs nl-cache, warm runs (ratio < 1: glujs faster or fewer LOOKUPs), median over rounds:', '');
  for (const ph of phases) {
    const g = res(ph, 'glujs-nlc'), n = res(ph, 'nl-cache');
    L.push(`- ${label(ph)}: mean per resolution ${f2(ratio(med(g.warm, 'avg'), med(n.warm, 'avg')))} (${us(med(g.warm, 'avg'))} vs ${us(med(n.warm, 'avg'))} µs; same-round ratios ${spread(paired(ph, 'avg'))}), ` +
      `p50 ${f2(ratio(med(g.warm, 'p50'), med(n.warm, 'p50')))}; brick LOOKUPs per resolution, all ${ph.bricks} bricks: ${f2(med(g.warm, 'lookups'))} vs ${f2(med(n.warm, 'lookups'))}; ` +
      `first run after the switch (empty cache): ${f2(ratio(med(g.cold, 'avg'), med(n.cold, 'avg')))} (${f2(med(g.cold, 'lookups'))} vs ${f2(med(n.cold, 'lookups'))} LOOKUPs).`);
  }
  for (const ph of phases) {
    const g = res(ph, 'glujs-nlc').mem, n = res(ph, 'nl-cache').mem;
    L.push(`- ${label(ph)}: set-up ${f1(ph.setupMs / 1000)} s; client glusterfs RSS ${g && n ? `${mb(g['client glusterfs'].rss)} MiB with glujs-nlc vs ${mb(n['client glusterfs'].rss)} MiB with nl-cache` : '–'}, ` +
      `the whole cluster ${g && n ? `${mb(memTotal(g, 'rss'))} vs ${mb(memTotal(n, 'rss'))} MiB RSS (PSS ${mb(memTotal(g, 'pss'))} vs ${mb(memTotal(n, 'pss'))})` : '–'}; ` +
      `after all ${2 * opt.rounds} graph switches the client holds ${ph.memEnd ? mb(ph.memEnd['client glusterfs'].rss) : '–'} MiB.`);
  }
  L.push('');

  L.push('## How it was measured', '');
  for (const [k, v] of Object.entries(meta)) L.push(`- ${k}: ${v}`);
  L.push(`- cluster: \`startCluster\` (lib/testing/cluster.ts) with 3 server hosts h1..h3 (each its own network, UTS and mount namespace, glusterd, bricks and self-heal daemon) and 1 client host c1 (one FUSE mount, GlusterFS defaults: entry/attribute timeout 1 s, negative timeout 0), one cluster per (layout, RTT). Layouts: ${opt.layouts.join(', ')}; bricks round-robin over the hosts, so each replica set spans all three. Every host is connected through the userspace WAN switch (lib/testing/wan-switch.py), which delays every frame by RTT/2: glusterd, portmap and brick traffic all see the round trip.`);
  L.push(`- volume options (both configurations): features.cache-invalidation on (upcall on every brick), performance.nl-cache-positive-entry ${opt.positiveEntry}, diagnostics.latency-measurement on and diagnostics.count-fop-hits on (for the bricks' io-stats counters), and withCluster's network.ping-timeout 5, cluster.heal-timeout 10; all else GlusterFS 10.3's defaults (nl-cache-timeout 60 s; the client graph keeps the default performance xlators).`);
  L.push(`- configurations: \`nl-cache\` = \`gluster volume set ${VOLUME} performance.nl-cache on\`, no glujs filter; \`glujs-nlc\` = \`glujs filter install --volume ${VOLUME} --module examples/nlc.ts\` on every server (what withCluster's \`client:\` does; default options: fast on, timeout 60 s, limit 16MB) and performance.nl-cache off. The client graphs as the mount logged them are below.`);
  L.push(`- switching: each measurement starts with a graph switch of the live mount into its configuration (the filter installed or uninstalled on every server with --no-regenerate, then the one \`volume set\` of performance.nl-cache regenerates every server's volfiles). It counts only when the mount log says "switched to graph N" for a new N, that graph's volfile has the configuration's cache and not the other one, every protocol/client of the active graph is connected (\`waitMounts\`), for glujs-nlc the statedump shows an instance running examples/nlc.ts, and during each run the configuration's own hit counter (nl-cache's negative-lookup hits; glujs's \`fast_hits\`) rose by at least ${MIN_HITS} while the other's did not move: otherwise the benchmark stops with an error.`);
  L.push(`- workload: ${describeWorkload('the client mount once, right after the set-up (with glujs-nlc active)')}`);
  L.push(`- a resolution: \`fs.statSync\` (throwIfNoEntry: false) of \`inc0/<f>\`, \`inc1/<f>\`, ... until one exists, then \`openSync\`, \`readSync\`, \`closeSync\`; timed with \`process.hrtime\` in this process, which sees the client host's mount through a shared mount. Every answer is checked (right directory, right size).`);
  L.push(`- after each switch: one cold run (the new graph's cache is empty, and its inodes are new), ${opt.warm} warm runs (the figures of the main table: a round's figure is the mean of its warm runs' means and counts, the median of their percentiles), then negative hits (${'`'}fs.statSync${'`'} of the 9 names f001.php in every directory but its own, twice each to warm, then 500; µs; two of them are not in the workload, so 516 of the 518 stats can be hits). A round = nl-cache, then glujs-nlc; strictly alternating, so every measurement follows a switch from the other configuration. ${opt.rounds} rounds per cluster. Each statistic is the median over rounds of that run's statistic; "runs spread" is the min..max of the per-run means.`);
  L.push(`- brick LOOKUPs: every brick's io-stats \`io-stats.cumulative.LOOKUP\` (SIGUSR1 statedump of each brick's glusterfsd, \`ClusterBrick.statedump()\`, before and after every run), summed over all bricks, divided by ${N_REQUESTS}. A replicated lookup costs one LOOKUP on each brick of its replica set.`);
  L.push(`- memory: VmRSS and Pss (smaps_rollup) of every process of each kind, found by the hosts' network namespaces; the WAN switch by its pid (\`Cluster.wanPid\`). Set-up time: \`Cluster.setupMs\` (from nothing to the writable mount).`);
  L.push('');

  /** A markdown table: `cols` = [header, right-aligned?], one row per call of `row` for each (phase, configuration). */
  const table = (cols: Array<[string, boolean]>, row: (ph: Phase, r: CfgResult, n: CfgResult) => Array<string | number>) => {
    L.push(`| layout | RTT ms | config | ${cols.map((c) => c[0]).join(' | ')} |`, `|---|---:|---|${cols.map((c) => (c[1] ? '---:' : '---')).join('|')}|`);
    for (const ph of phases) for (const r of ph.results) L.push(`| ${lay(ph)} | ${ph.rtt} | ${r.cfg.id} | ${row(ph, r, res(ph, 'nl-cache')).join(' | ')} |`);
    L.push('');
  };
  L.push('## Per resolution', '');
  L.push('Warm runs, µs per resolution (median over rounds), brick LOOKUPs and fops per resolution summed over all bricks:', '');
  table([['mean µs', true], ['p50 µs', true], ['p99 µs', true], ['stat phase mean µs', true], ['runs spread (mean µs)', true], ['brick LOOKUPs / resolution', true],
    ['brick fops / resolution', true], ['negative hit p50 µs', true], ['negative hits the cache counted (of 518 stats)', true], ['mean / nl-cache', true], ['p50 / nl-cache', true], ['LOOKUPs / nl-cache', true], ['same-round mean / nl-cache, min..max', true]],
  (ph, r, n) => {
    const w = r.warm, avgs = w.map((x) => x.avg * 1000);
    return [us(med(w, 'avg')), us(med(w, 'p50')), us(med(w, 'p99')), us(med(w, 'statAvg')), `${f1(Math.min(...avgs))}..${f1(Math.max(...avgs))}`, f2(med(w, 'lookups')), f2(med(w, 'fops')),
      f1(median(r.negHit.map((x) => x.p50))), median(r.negHit.map((x) => x.hits)), f2(ratio(med(w, 'avg'), med(n.warm, 'avg'))), f2(ratio(med(w, 'p50'), med(n.warm, 'p50'))), f2(ratio(med(w, 'lookups'), med(n.warm, 'lookups'))),
      r === n ? '1.00..1.00' : spread(paired(ph, 'avg'))];
  });
  L.push('First run after each switch (the cache and the graph are new), µs per resolution and brick LOOKUPs per resolution (median over rounds):', '');
  table([['mean µs', true], ['p50 µs', true], ['brick LOOKUPs / resolution', true], ['mean / nl-cache', true], ['graph switch s (median, min..max)', true]], (ph, r, n) => {
    const s = r.switches.map((x) => x.ms / 1000);
    return [us(med(r.cold, 'avg')), us(med(r.cold, 'p50')), f2(med(r.cold, 'lookups')), f2(ratio(med(r.cold, 'avg'), med(n.cold, 'avg'))), `${f1(median(s))} (${f1(Math.min(...s))}..${f1(Math.max(...s))})`];
  });

  L.push('## Reading the numbers', '');
  const warmFops = phases.flatMap((ph) => ph.results.map((r) => med(r.warm, 'fops')));
  const coldL = phases.flatMap((ph) => ph.results.map((r) => med(r.cold, 'lookups')));
  L.push(`- **Where the caches sit.** glusterd's client graph has md-cache, quick-read, open-behind and write-behind by default (see "Client graphs"). glusterd puts nl-cache below md-cache; the glujs filter puts glujs at the top, below io-stats. A negative lookup answered by either cache never leaves the client; one that is not answered goes down through DHT and AFR to the bricks (LOOKUP on every brick of the replica set).`);
  L.push(`- **What a warm resolution costs.** Warm runs sent ${f2(Math.min(...warmFops))}..${f2(Math.max(...warmFops))} brick fops per resolution in all: open-behind does not send the OPEN, quick-read serves the small file's content from what it fetched with the lookup, and the found names stay in the kernel (FUSE's 1 s entry timeout) or in the client's caches. So the warm figures measure the client (FUSE round trips and the xlator stack on 2 shared cores), not the WAN; the RTT shows in the first run after a switch, which sends ${f2(Math.min(...coldL))}..${f2(Math.max(...coldL))} brick LOOKUPs per resolution (every name learnt again, every inode looked up again in the new graph).`);
  L.push(`- **Every measurement follows a graph switch.** Both caches start empty in a new graph each time; nl-cache's one-shot expiry (bench/RESULTS.md, "Reading the numbers") and glujs's 60 s expiry never come into play within a measurement (a switch and its runs take seconds). The FUSE client keeps its old graphs, so its memory grows with the switches ("end" rows).`);
  L.push(`- **The WAN switch** is a Python process that forwards every frame after RTT/2; the TCP round trip it gives is above the target (table below: its own forwarding and wake-ups), and it is one more process on the 2 cores.`);
  L.push(`- **Noise.** 2 vCPUs shared with whatever else runs (load averages above); compare the same-round ratios and the spreads, not single figures.`);
  L.push('');

  L.push('## Set-up time and memory', '');
  L.push('Per cluster: `Cluster.setupMs`, the measured TCP round trip c1 -> h1 through the WAN switch (64-byte ping-pong, µs), the bricks\' LOOKUPs per second with nothing running, and the wall time of the whole phase.', '');
  L.push('| layout | RTT ms | bricks | set-up s | TCP RTT p50 µs | p99 µs | idle brick LOOKUPs / s | phase wall s |');
  L.push('|---|---:|---:|---:|---:|---:|---:|---:|');
  for (const ph of phases) L.push(`| ${lay(ph)} | ${ph.rtt} | ${ph.bricks} | ${f1(ph.setupMs / 1000)} | ${f1(ph.tcp.p50)} | ${f1(ph.tcp.p99)} | ${f1(ph.idleLookupsPerS)} | ${f1(ph.wallS)} |`);
  L.push('');
  L.push('Resident memory, MiB: RSS summed per kind of process (count in parentheses), and the totals (RSS double-counts shared pages; PSS does not). "start": right after set-up and the workload\'s files, glujs-nlc active; per configuration: after its first warm run (one graph switch behind it for nl-cache, two for glujs-nlc); "end": after the last round (every switch behind it: a FUSE client keeps its old graphs).', '');
  L.push(`| layout | RTT ms | when | ${MEM_KINDS.join(' | ')} | total RSS | total PSS |`);
  L.push(`|---|---:|---|${MEM_KINDS.map(() => '---:').join('|')}|---:|---:|`);
  for (const ph of phases) {
    const rows: Array<[string, Mem | undefined]> = [['start', ph.memStart], ...ph.results.map((r) => [r.cfg.id, r.mem] as [string, Mem | undefined]), ['end', ph.memEnd]];
    for (const [when, m] of rows) if (m) {
      L.push(`| ${lay(ph)} | ${ph.rtt} | ${when} | ${MEM_KINDS.map((k) => `${mb(m[k].rss)} (${m[k].n})`).join(' | ')} | ${mb(memTotal(m, 'rss'))} | ${mb(memTotal(m, 'pss'))} |`);
    }
  }
  L.push('');

  L.push('## Client graphs', '');
  L.push('The active FUSE client graph of each configuration, top first, as the mount logged it ("Final graph"), without the protocol/client xlators:', '');
  const seen = new Set<string>();
  for (const ph of phases) for (const r of ph.results) {
    const s = r.switches[r.switches.length - 1]?.stack ?? '';
    const key = `${ph.layout} ${r.cfg.id} ${s}`;
    if (seen.has(key)) continue;
    seen.add(key);
    L.push(`- ${lay(ph)}, ${r.cfg.id}: ${s}`);
  }
  L.push('');

  L.push('## Brick fops per resolution (warm runs, all bricks, median over rounds)', '');
  const fops = [...new Set(phases.flatMap((ph) => ph.results.flatMap((r) => r.warm.flatMap((x) => [...x.mix.keys()]))))].sort();
  table(fops.map((k) => [k, true]), (_ph, r) => fops.map((k) => f2(median(r.warm.map((x) => (x.mix.get(k) ?? 0) / N_REQUESTS)))));
  return L.join('\n');
}

// ---------------------------------------------------------------- main
async function main(): Promise<void> {
  const opt = parseArgs(process.argv.slice(2));
  const command = ['node', path.relative(ROOT, __filename), ...process.argv.slice(2)].map((a) => (/\s/.test(a) ? `'${a}'` : a)).join(' ');
  const sh = (cmd: string, args: string[]) => { try { return execFileSync(cmd, args, { encoding: 'utf8', cwd: ROOT }).trim(); } catch { return '?'; } };
  const loadavg = () => fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  const dirty = sh('git', ['status', '--porcelain', '--untracked-files=no']);
  const meta: Record<string, string> = {
    date: new Date().toISOString(),
    commit: `${sh('git', ['rev-parse', '--short', 'HEAD'])}${dirty && dirty !== '?' ? ' (with uncommitted changes)' : ''}`,
    command: `\`${command}\` (rounds ${opt.rounds}, warm runs ${opt.warm}, RTTs ${opt.rtts.join(', ')} ms, layouts ${opt.layouts.join(', ')})`,
    host: `${sh('hostname', [])}: Linux ${sh('uname', ['-r'])}, nproc ${sh('nproc', [])}, ${/^model name\s*:\s*(.*)$/m.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? '?'}`,
    GlusterFS: sh('glusterfs', ['--version']).split('\n')[0],
    node: process.version,
    'GlusterFS processes already running at start (not ours)': sh('sh', ['-c', 'ps -eo comm= | grep -cE "^(glusterfs|glusterfsd|glusterd)$" || true']),
    'load average at start': loadavg(),
  };
  if (!fs.existsSync(NLC_TS)) throw new Error(`${NLC_TS} does not exist`);
  const phases: Phase[] = [], failures: string[] = [];
  // a phase that fails is reported as failed (and the exit status is 1); the others still run
  for (const layout of opt.layouts) for (const rtt of opt.rtts) {
    try { phases.push(await phase(layout, rtt, opt)); } catch (e) {
      log(`${layout}, RTT ${rtt} ms FAILED: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
      failures.push(`${layout}, RTT ${rtt} ms: ${String(e instanceof Error ? e.message : e).split('\n')[0]}`);
    }
  }
  if (failures.length) { meta['FAILED phases (not in the tables)'] = failures.join('; '); process.exitCode = 1; }
  meta['load average at end'] = loadavg();
  const loads = phases.flatMap((p) => p.loads);
  if (loads.length) meta['1-min load average after each round, min / median / max'] = `${Math.min(...loads)} / ${median(loads)} / ${Math.max(...loads)}`;
  meta['wall time'] = `${f1((Date.now() - T0) / 1000)} s`;
  const text = report(opt, phases, meta);
  publish(text, RESULTS, log);
}

runMain(main, log);
