// Negative-lookup caches on the PHP include-path workload: no cache, GlusterFS's own
// performance/nl-cache, and glujs's examples/nlc.ts (fast path on and off), side by
// side in one run, over a userspace delay proxy at several round-trip times.
//
//   node dist/bench/nlc-bench.js [--runs N] [--rtts 0,0.25,1] [--quick] [--php-includes N] [--no-php] [--stat-only] [--spin US]
//   (--spin: every glujs configuration with option spin US, to see what the JS thread's wake-ups cost)
//
// Workload: 10 include directories /app/inc0../app/inc9 and 100 files f000..f099.php,
// file i only in /app/inc((7·i) mod 10); 1000 requests from mulberry32(42), 80% to the
// 10 hot files f000..f009 (one per directory), 20% uniform over all 100. A request
// stats /app/inc0/<f>, /app/inc1/<f>, ... until one exists, then (full variant) opens,
// reads and closes it; the stat phase (until the successful stat) is timed too, and with
// --stat-only a separate stat-only variant stops at the successful stat. A run = the
// 1000 requests on one configuration; configurations are interleaved, order rotated
// every round. Each configuration has its own brick + FUSE mount (FUSE defaults) per
// RTT, its client connected through its own delay-proxy child process.
// Output: markdown on stdout and in bench/RESULTS.md; progress on stderr.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { startVolume, type Volume, type XlatorSpec } from '../lib/testing';
import { cumulative, delta, describeWorkload, f1, f2, f3, median, negativeHits, pct, runRequests, setUp, sumFops, N_REQUESTS, REQUESTS, fileName, N_DIRS, type FopCounts, type Timing } from './include-path';
import { sleep, sleepSync } from '../lib/testing/proc';
import { publish, runMain, UsageError } from './run';

const ROOT = path.resolve(__dirname, '..', '..'); // run from dist/bench
const PROXY_JS = path.join(__dirname, 'delay-proxy.js');
const NLC_TS = process.env.NLC_BENCH_MODULE ? path.resolve(process.env.NLC_BENCH_MODULE) : path.join(ROOT, 'examples', 'nlc.ts'); // env: for testing the skip path
const RESULTS = path.join(ROOT, 'bench', 'RESULTS.md');
const PHP_GEN_DIR = path.join(ROOT, 'bench', 'php', 'gen');

const log = (s: string) => process.stderr.write(s + '\n');
const T0 = Date.now();
const loads: number[] = []; // 1-min load average after every round
const load1 = () => Number(fs.readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);

// ---------------------------------------------------------------- arguments
interface Opts { runs: number; rtts: number[]; quick: boolean; phpIncludes: number; php: boolean; statOnly: boolean; spin?: number; }
// statOnly: separate stat-only runs (opt-in, +~2 min). By default the stat phase is timed inside the full runs.
function parseArgs(argv: string[]): Opts {
  const o: Opts = { runs: 10, rtts: [0, 0.25, 1], quick: false, phpIncludes: 150, php: true, statOnly: false };
  let runsGiven = false, rttsGiven = false;
  const usage = 'usage: nlc-bench [--runs N] [--rtts 0,0.25,1] [--quick] [--php-includes N] [--no-php] [--stat-only] [--spin US]';
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i], v = argv[i + 1];
    if (a === '--quick') o.quick = true;
    else if (a === '--no-php') o.php = false;
    else if (a === '--stat-only') o.statOnly = true;
    else if (a === '--runs' && v !== undefined && Number.isInteger(+v) && +v >= 1) { o.runs = +v; runsGiven = true; i++; }
    else if (a === '--spin' && v !== undefined && Number.isInteger(+v) && +v >= 0) { o.spin = +v; i++; }
    else if (a === '--php-includes' && v !== undefined && Number.isInteger(+v) && +v >= 1 && +v <= N_REQUESTS) { o.phpIncludes = +v; i++; }
    else if (a === '--rtts' && v !== undefined && v.split(',').every((x) => x !== '' && Number.isFinite(+x) && +x >= 0)) {
      o.rtts = v.split(',').map(Number); rttsGiven = true; i++;
    } else throw new UsageError(`${usage}\n(bad argument: ${a}${v !== undefined ? ` ${v}` : ''})`);
  }
  if (o.quick) { if (!runsGiven) o.runs = 3; if (!rttsGiven) o.rtts = [0, 1]; }
  return o;
}

// ---------------------------------------------------------------- configurations
interface Config { id: string; what: string; client: XlatorSpec[]; direct?: boolean; glujs?: boolean; mountOptions?: string[]; }
const GLUJS_TYPE = process.env.GLUJS_TYPE || 'features/glujs'; // env: a development build beside the installed one
const glujsNlc = (fast: boolean): XlatorSpec =>
  ({ name: 'nlc', type: GLUJS_TYPE, options: { module: NLC_TS, fast: fast ? 'on' : 'off', timeout: 60 } });
/** The kernel tier's mount options: the kernel answers repeat lookups itself, glujs keeps them coherent. */
const KERNEL_TIER = ['--negative-timeout=600', '--entry-timeout=600'];
const CONFIGS: Config[] = [
  { id: 'none', what: 'no cache (protocol/client only)', client: [] },
  { id: 'nl-cache', what: 'performance/nl-cache (nl-cache-timeout 60, other options default)', client: [{ name: 'nl-cache', type: 'performance/nl-cache', options: { 'nl-cache-timeout': 60 } }] },
  { id: 'glujs-nlc', what: 'features/glujs examples/nlc.ts, fast on', client: [glujsNlc(true)], glujs: true },
  { id: 'glujs-nlc-nofast', what: 'features/glujs examples/nlc.ts, fast off', client: [glujsNlc(false)], glujs: true },
  { id: 'glujs-nlc-kernel', what: 'features/glujs examples/nlc.ts, fast on, the kernel tier: mounted with negative-timeout=600, entry-timeout=600', client: [glujsNlc(true)], glujs: true, mountOptions: KERNEL_TIER },
];
const NONE_DIRECT: Config = { id: 'none-direct', what: 'no cache, client connected straight to the brick (no proxy)', client: [], direct: true };

// ---------------------------------------------------------------- delay proxy children
interface Proxy { child: ChildProcess; pid: number; port: number; outFile: string; stats?: Record<string, number>; }
const proxies = new Set<Proxy>();
let proxySeq = 0;
let workDir = '';

/** Start a delay-proxy child and wait (synchronously: startVolume's proxyPort hook is synchronous) until it listens. */
function startProxySync(target: number, delayMs: number): Proxy {
  const outFile = path.join(workDir, `proxy-${++proxySeq}.out`);
  const fd = fs.openSync(outFile, 'w');
  let child: ChildProcess;
  try {
    child = spawn(process.execPath, [PROXY_JS, '--listen', '0', '--target', String(target), '--delay-ms', String(delayMs)],
      { stdio: ['pipe', fd, 'inherit'] }); // stdin: a pipe, so the proxy exits if we die
  } finally { fs.closeSync(fd); }
  const p: Proxy = { child, pid: child.pid ?? 0, port: 0, outFile };
  proxies.add(p);
  for (const end = Date.now() + 10000; Date.now() < end; sleepSync(5)) {
    const m = /^ready (\d+)$/m.exec(fs.readFileSync(outFile, 'utf8'));
    if (m) { p.port = Number(m[1]); return p; }
    if (!p.pid || !fs.existsSync(`/proc/${p.pid}`)) break;
  }
  throw new Error(`delay-proxy (pid ${p.pid}) did not print "ready" within 10 s`);
}
async function stopProxy(p: Proxy): Promise<void> {
  if (!proxies.has(p)) return;
  const exited = new Promise<void>((r) => { if (p.child.exitCode !== null || p.child.signalCode !== null) r(); else p.child.once('exit', () => r()); });
  try { process.kill(p.pid, 'SIGTERM'); } catch { /* gone */ }
  await Promise.race([exited, sleep(3000)]);
  if (p.child.exitCode === null && p.child.signalCode === null) {
    try { process.kill(p.pid, 'SIGKILL'); } catch { /* gone */ }
    await Promise.race([exited, sleep(2000)]);
  }
  const m = /^stats (.*)$/m.exec(fs.readFileSync(p.outFile, 'utf8'));
  if (m) try { p.stats = JSON.parse(m[1]); } catch { /* ignore */ }
  proxies.delete(p);
}
function killProxiesSync(): void {
  for (const p of proxies) { try { process.kill(p.pid, 'SIGKILL'); } catch { /* gone */ } }
  proxies.clear();
}

/** Round-trip time of 300-byte ping-pongs against an echo server, direct and through a proxy child (µs). */
async function pingPong(port: number, n: number): Promise<number[]> {
  const s = net.connect(port, '127.0.0.1');
  s.setNoDelay(true);
  await new Promise<void>((r, j) => { s.once('connect', r); s.once('error', j); });
  const msg = Buffer.alloc(300, 7), lat: number[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const t0 = process.hrtime.bigint();
      s.write(msg);
      let got = 0;
      await new Promise<void>((r) => { const h = (d: Buffer) => { got += d.length; if (got >= msg.length) { s.off('data', h); r(); } }; s.on('data', h); });
      lat.push(Number(process.hrtime.bigint() - t0) / 1000);
    }
  } finally { s.destroy(); }
  return lat.sort((a, b) => a - b);
}
interface Calib { rtt: number; direct: number[]; proxied: number[]; stats?: Record<string, number>; }
async function calibrate(rtts: number[]): Promise<Calib[]> {
  const echo = net.createServer((c) => { c.setNoDelay(true); c.pipe(c); });
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
  const ePort = (echo.address() as net.AddressInfo).port;
  const out: Calib[] = [];
  try {
    for (const rtt of rtts) {
      const p = startProxySync(ePort, rtt / 2);
      const direct: number[][] = [], proxied: number[][] = [];
      try {
        for (let r = 0; r < 3; r++) { direct.push(await pingPong(ePort, 200)); proxied.push(await pingPong(p.port, 200)); }
      } finally { await stopProxy(p); }
      const q = (xss: number[][]) => [50, 90, 99].map((k) => median(xss.map((xs) => pct(xs, k))));
      out.push({ rtt, direct: q(direct), proxied: q(proxied), stats: p.stats });
    }
  } finally { echo.close(); }
  return out;
}

// ---------------------------------------------------------------- one run
interface RunResult extends Timing { lookups: number; fops: number; fopMix: FopCounts; }
type Variant = 'full' | 'stat' | 'phase'; // phase: the stat phase of the full runs

// ---------------------------------------------------------------- PHP
const phpBin = (() => { try { return execFileSync('sh', ['-c', 'command -v php'], { encoding: 'utf8' }).trim(); } catch { return ''; } })();
function phpScript(n: number): string {
  fs.mkdirSync(PHP_GEN_DIR, { recursive: true });
  const f = path.join(PHP_GEN_DIR, `includes-${n}.php`);
  const body = ['<?php', '// generated by bench/nlc-bench.ts: the first N requests of mulberry32(42); include_path = /app/inc0:..:/app/inc9 of the mount',
    '$x = [];', ...REQUESTS.slice(0, n).map((i) => `include '${fileName(i)}';`), 'echo count($x), " ", array_sum($x), "\\n";', ''].join('\n');
  fs.writeFileSync(f, body);
  return f;
}
const phpArgs = (mount: string | null, script: string) => ['-n', '-d', 'realpath_cache_size=0', '-d', 'opcache.enable_cli=0',
  ...(mount ? ['-d', `include_path=${Array.from({ length: N_DIRS }, (_, d) => path.join(mount, 'app', `inc${d}`)).join(':')}`] : []), script];
/** One php process; wall-clock ms. */
function runPhp(mount: string | null, script: string, expect: string): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(phpBin, phpArgs(mount, script), { encoding: 'utf8', timeout: 120000 });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0 || r.stdout.trim() !== expect) throw new Error(`php failed (status ${r.status}): ${r.stdout.slice(0, 300)} ${r.stderr.slice(0, 300)}`);
  return ms;
}

// ---------------------------------------------------------------- per-RTT phase
interface CfgResult {
  cfg: Config;
  cold?: RunResult;
  coldFresh?: RunResult;
  runs: Record<Variant, RunResult[]>; // index = round
  php: { ms: number; lookups: number; mix: FopCounts }[];
  negHit: { p50: number; p90: number }[]; // µs, one per round
  proxyStats?: Record<string, number>;
  skipped?: string;
}
interface Phase { rtt: number; results: CfgResult[]; }

let glujsProblem: string | undefined = fs.existsSync(NLC_TS) ? undefined : `${NLC_TS} does not exist`;

async function phase(rtt: number, opt: Opts, php: { script: string; expect: string } | undefined): Promise<Phase> {
  const cfgs = [...(rtt === 0 ? [NONE_DIRECT] : []), ...CONFIGS];
  const vols = new Map<string, { v: Volume; proxy?: Proxy }>();
  const results: CfgResult[] = cfgs.map((cfg) => ({ cfg, runs: { full: [], stat: [], phase: [] }, php: [], negHit: [] }));
  try {
    // Volumes: one per configuration, each client through its own proxy child.
    for (const res of results) {
      const c = res.cfg;
      if (c.glujs && glujsProblem) { res.skipped = glujsProblem; log(`[rtt ${rtt}] skip ${c.id}: ${glujsProblem}`); continue; }
      let proxy: Proxy | undefined;
      try {
        // Mount 0: set-up and every run. Mount 1 (same client graph, idle until then): one cold
        // run at the end of the phase, a client that saw neither the set-up nor any lookup.
        const v = await startVolume({
          client: c.client, upcall: true, mounts: 2, mountOptions: c.mountOptions,
          proxyPort: c.direct ? undefined : (brickPort) => (proxy = startProxySync(brickPort, rtt / 2)).port,
        });
        vols.set(c.id, { v, proxy });
        if (c.glujs && !v.log(0).includes('loaded translator module')) throw new Error(`no "loaded translator module" line in ${v.clientLogs[0]}`);
        setUp(v.mount);
      } catch (e) {
        const full = String((e as Error).message ?? e);
        const msg = /cannot load translator module (.*)$/m.exec(full)?.[1]?.trim() ?? full.split('\n')[0];
        const entry = vols.get(c.id);
        if (entry) await entry.v.stop();
        vols.delete(c.id);
        if (proxy) await stopProxy(proxy);
        if (!c.glujs) throw e;
        glujsProblem = `${NLC_TS} failed to load: ${msg}`;
        log(full);
        res.skipped = glujsProblem;
        log(`[rtt ${rtt}] skip ${c.id}: ${glujsProblem}`);
      }
    }
    const active = results.filter((r) => !r.skipped);
    log(`[rtt ${rtt}] volumes up: ${active.map((r) => r.cfg.id).join(', ')}`);

    const measured = async (res: CfgResult, fn: () => void): Promise<{ lookups: number; fops: number; mix: FopCounts }> => {
      const v = vols.get(res.cfg.id)!.v;
      const before = cumulative(await v.statedump('brick'));
      fn();
      const d = delta(before, cumulative(await v.statedump('brick')));
      return { lookups: d.get('LOOKUP') ?? 0, fops: sumFops(d), mix: d };
    };
    let lastPhase: RunResult | undefined;
    const doRun = async (res: CfgResult, variant: 'full' | 'stat', mount = 0): Promise<RunResult> => {
      let r!: ReturnType<typeof runRequests>;
      const m = await measured(res, () => { r = runRequests(vols.get(res.cfg.id)!.v.mounts[mount], variant); });
      // Every LOOKUP of a resolution happens in its stat phase (open/read/close send OPEN, FLUSH, RELEASE).
      lastPhase = { ...r.phase, lookups: m.lookups / N_REQUESTS, fops: m.lookups / N_REQUESTS, fopMix: new Map([['LOOKUP', m.lookups]]) };
      return { ...r.all, lookups: m.lookups / N_REQUESTS, fops: m.fops / N_REQUESTS, fopMix: m.mix };
    };

    // Cold first run (full variant), right after set-up.
    for (const res of active) {
      res.cold = await doRun(res, 'full');
      log(`[rtt ${rtt}] cold ${res.cfg.id}: avg ${f3(res.cold.avg)} ms, ${f2(res.cold.lookups)} LOOKUPs/resolution`);
    }
    // Rounds, order rotated every round.
    for (let round = 0; round < opt.runs; round++) {
      // Kind-major: between two runs on one mount, every other configuration runs once, so each
      // mount's kernel dentries (1 s entry timeout) age about as long before every run.
      const order = active.map((_, i) => active[(i + round) % active.length]);
      for (const res of order) { res.runs.full.push(await doRun(res, 'full')); res.runs.phase.push(lastPhase!); }
      if (opt.statOnly) for (const res of order) res.runs.stat.push(await doRun(res, 'stat'));
      if (php) {
        for (const res of order) {
          let ms = 0;
          const m = await measured(res, () => { ms = runPhp(vols.get(res.cfg.id)!.v.mount, php.script, php.expect); });
          res.php.push({ ms, lookups: m.lookups / opt.phpIncludes, mix: m.mix });
        }
      }
      for (const res of order) res.negHit.push(negativeHits(vols.get(res.cfg.id)!.v.mount));
      loads.push(load1());
      log(`[rtt ${rtt}] round ${round + 1}/${opt.runs} (${f1((Date.now() - T0) / 1000)} s, load ${loads[loads.length - 1]}): ` + active.map((res) => {
        const x = res.runs.full[round];
        return `${res.cfg.id} ${f3(x.avg)} ms ${f2(x.lookups)} L` + (php ? ` php ${f1(res.php[round].ms)}` : '');
      }).join(' | '));
    }
    // A fresh client: the second mount, untouched so far (caches only: without one, cold = warm).
    for (const res of active.filter((r) => r.cfg.client.length)) {
      res.coldFresh = await doRun(res, 'full', 1);
      log(`[rtt ${rtt}] cold, fresh client ${res.cfg.id}: avg ${f3(res.coldFresh.avg)} ms, ${f2(res.coldFresh.lookups)} LOOKUPs/resolution`);
    }
    return { rtt, results };
  } finally {
    for (const [id, { v, proxy }] of vols) {
      await v.stop().catch((e) => log(`stop ${v.dir}: ${e}`));
      if (proxy) { await stopProxy(proxy); const r = results.find((x) => x.cfg.id === id); if (r) r.proxyStats = proxy.stats; }
    }
  }
}

// ---------------------------------------------------------------- report
interface Agg { min: number; avg: number; p50: number; p99: number; max: number; avgLo: number; avgHi: number; lookups: number; fops: number; n: number; }
function aggregate(runs: RunResult[]): Agg {
  const med = (k: keyof RunResult) => median(runs.map((r) => r[k] as number));
  const avgs = runs.map((r) => r.avg);
  return { min: med('min'), avg: med('avg'), p50: med('p50'), p99: med('p99'), max: med('max'),
    avgLo: Math.min(...avgs), avgHi: Math.max(...avgs), lookups: med('lookups'), fops: med('fops'), n: runs.length };
}
const rttLabel = (rtt: number) => `RTT ${rtt} ms`;

function report(opt: Opts, phases: Phase[], calib: Calib[], meta: Record<string, string>): string {
  const L: string[] = [];
  const find = (ph: Phase, id: string) => ph.results.find((r) => r.cfg.id === id && !r.skipped && r.runs.full.length);
  const agg = (ph: Phase, id: string, v: Variant = 'full') => { const r = find(ph, id); return r && r.runs[v].length ? aggregate(r.runs[v]) : undefined; };
  const ratio = (a?: number, b?: number) => (a !== undefined && b !== undefined && b > 0 ? a / b : NaN);
  /** Warm full runs whose LOOKUP count is clearly above that configuration's least (a cache refill). */
  const refills = (ph: Phase, id: string) => {
    const rs = find(ph, id)?.runs.full ?? [];
    const minL = Math.min(...rs.map((x) => x.lookups));
    return `${rs.filter((x) => x.lookups > minL + 0.1).length}/${rs.length}`;
  };

  L.push('# Negative-lookup caches on the PHP include-path workload', '');
  L.push('On a real multi-host cluster (replica 3 and 2x3, 3 server hosts and a client host through an emulated WAN, `node dist/bench/cluster-bench.js`): see [results/cluster.md](results/cluster.md).', '');
  // Summary
  L.push('## Summary', '');
  const g = 'glujs-nlc', k = 'glujs-nlc-kernel';
  const haveG = phases.some((ph) => find(ph, g));
  const negP50 = (ph: Phase, id: string) => { const r = find(ph, id); return r && r.negHit.length ? median(r.negHit.map((x) => x.p50)) : NaN; };
  const phpMs = (ph: Phase, id: string) => { const r = find(ph, id); return r && r.php.length ? median(r.php.map((x) => x.ms)) : NaN; };
  if (phases.some((ph) => find(ph, k))) {
    L.push(`- **The kernel tier** (${k}: the NLC on a mount with negative-timeout=600, entry-timeout=600; the kernel answers repeat lookups itself, glujs keeps it coherent) vs GlusterFS nl-cache (ratio < 1: glujs faster):`);
    for (const ph of phases) {
      L.push(`  - ${rttLabel(ph.rtt)}: include-path mean per resolution ${f2(ratio(agg(ph, k)?.avg, agg(ph, 'nl-cache')?.avg))} ` +
        `(${f3(agg(ph, k)?.avg ?? NaN)} vs ${f3(agg(ph, 'nl-cache')?.avg ?? NaN)} ms), stat phase ${f2(ratio(agg(ph, k, 'phase')?.avg, agg(ph, 'nl-cache', 'phase')?.avg))}` +
        (opt.statOnly ? `, stat-only ${f2(ratio(agg(ph, k, 'stat')?.avg, agg(ph, 'nl-cache', 'stat')?.avg))}` : '') +
        (opt.php && phpBin ? `, php-cli ${f2(ratio(phpMs(ph, k), phpMs(ph, 'nl-cache')))}` : '') +
        `; negative-hit p50 ${f2(ratio(negP50(ph, k), negP50(ph, 'nl-cache')))} (${f1(negP50(ph, k))} vs ${f1(negP50(ph, 'nl-cache'))} µs)` +
        `; brick LOOKUPs per resolution ${f2(agg(ph, k)?.lookups ?? NaN)} vs ${f2(agg(ph, 'nl-cache')?.lookups ?? NaN)}` +
        `; fast off (glujs-nlc-nofast) ${f2(ratio(agg(ph, 'glujs-nlc-nofast')?.avg, agg(ph, 'nl-cache')?.avg))}.`);
    }
    const floors = phases.filter((ph) => ph.rtt > 0 && find(ph, 'nl-cache')).map((ph) => {
      const rttMs = (calib.find((c) => c.rtt === ph.rtt)?.proxied[0] ?? NaN) / 1000;
      const of = median(find(ph, 'nl-cache')!.runs.full.map((x) => ((x.fopMix.get('OPEN') ?? 0) + (x.fopMix.get('FLUSH') ?? 0)) / N_REQUESTS));
      return `${rttLabel(ph.rtt)} ${f2(ratio(of * rttMs, agg(ph, 'nl-cache')?.avg))}`;
    });
    if (floors.length) L.push(`  - The floor (see "The round-trip floor"): the OPEN and FLUSH of the found file, which every configuration sends to the brick, cost at the measured round trip this fraction of nl-cache's mean, the lowest ratio any negative cache can reach on the full variant: ${floors.join(', ')}.`);
  }
  if (haveG) {
    L.push(`- ${g} vs GlusterFS nl-cache, mean time per include resolution (ratio < 1: glujs faster): ` +
      phases.map((ph) => {
        const a = find(ph, g)?.runs.full ?? [], b = find(ph, 'nl-cache')?.runs.full ?? [];
        const paired = a.map((x, i) => ratio(x.avg, b[i]?.avg)).filter(Number.isFinite);
        return `${rttLabel(ph.rtt)} ${f2(ratio(agg(ph, g)?.avg, agg(ph, 'nl-cache')?.avg))}` +
          (paired.length ? ` (same-round ratios ${f2(Math.min(...paired))}..${f2(Math.max(...paired))})` : '');
      }).join(', ') +
      `; p50: ` + phases.map((ph) => f2(ratio(agg(ph, g)?.p50, agg(ph, 'nl-cache')?.p50))).join(', ') + '.');
    L.push(`- Milliseconds per resolution (median of ${opt.runs} runs), none / nl-cache / ${g} / glujs-nlc-nofast: ` +
      phases.map((ph) => `${rttLabel(ph.rtt)} ${['none', 'nl-cache', g, 'glujs-nlc-nofast'].map((id) => f3(agg(ph, id)?.avg ?? NaN)).join(' / ')}`).join('; ') + '.');
    L.push(`- Cold first run (right after set-up), ${g} vs nl-cache mean: ` +
      phases.map((ph) => `${rttLabel(ph.rtt)} ${f2(ratio(find(ph, g)?.cold?.avg, find(ph, 'nl-cache')?.cold?.avg))}`).join(', ') +
      `; cold run of a fresh client (no set-up seen): ` +
      phases.map((ph) => `${rttLabel(ph.rtt)} ${f2(ratio(find(ph, g)?.coldFresh?.avg, find(ph, 'nl-cache')?.coldFresh?.avg))}`).join(', ') + '.');
  } else {
    L.push(`- glujs configurations not measured: ${glujsProblem ?? 'unknown reason'}.`);
    L.push(`- nl-cache vs none, mean per resolution: ` + phases.map((ph) => `${rttLabel(ph.rtt)} ${f2(ratio(agg(ph, 'nl-cache')?.avg, agg(ph, 'none')?.avg))}`).join(', ') + '.');
  }
  const lastPh = phases[phases.length - 1];
  if (lastPh) {
    L.push(`- Brick LOOKUPs per resolution (${rttLabel(lastPh.rtt)}, warm): ` +
      ['none', 'nl-cache', g, 'glujs-nlc-nofast'].filter((id) => find(lastPh, id)).map((id) => `${id} ${f2(agg(lastPh, id)!.lookups)}`).join(', ') +
      `; cold run: ` + ['none', 'nl-cache', g, 'glujs-nlc-nofast'].filter((id) => find(lastPh, id)?.cold).map((id) => `${id} ${f2(find(lastPh, id)!.cold!.lookups)}`).join(', ') +
      `; cold, fresh client: ` + ['none', 'nl-cache', g, 'glujs-nlc-nofast'].filter((id) => find(lastPh, id)?.coldFresh).map((id) => `${id} ${f2(find(lastPh, id)!.coldFresh!.lookups)}`).join(', ') + '.');
  }
  if (haveG) {
    L.push(`- Warm runs with a cache refill (brick LOOKUPs clearly above the least), nl-cache / ${g}: ` +
      phases.map((ph) => `${rttLabel(ph.rtt)} ${refills(ph, 'nl-cache')} / ${refills(ph, g)}`).join(', ') +
      `. GlusterFS 10.3's nl-cache expires a directory once and then never again (its timer is not re-armed); glujs nlc expires every 60 s as configured, so part of its warm mean is refills (see "Reading the numbers").`);
  }
  const ph0 = phases.find((ph) => ph.rtt === 0);
  if (ph0 && agg(ph0, 'none-direct') && agg(ph0, 'none')) {
    L.push(`- The delay proxy's own cost (RTT 0, no cache): ${f3(agg(ph0, 'none-direct')!.avg)} ms direct vs ${f3(agg(ph0, 'none')!.avg)} ms through the proxy per resolution (×${f2(ratio(agg(ph0, 'none')!.avg, agg(ph0, 'none-direct')!.avg))}).`);
  }
  if (opt.php && phpBin && phases.length) {
    L.push(`- PHP (${opt.phpIncludes} includes per php process), ${haveG ? g : 'none'} vs nl-cache, median wall time: ` +
      phases.map((ph) => {
        const a = find(ph, haveG ? g : 'none'), b = find(ph, 'nl-cache');
        return `${rttLabel(ph.rtt)} ${f2(ratio(a && median(a.php.map((x) => x.ms)), b && median(b.php.map((x) => x.ms))))}`;
      }).join(', ') + '.');
  }
  L.push('');

  // Set-up
  L.push('## How it was measured', '');
  for (const [k, v] of Object.entries(meta)) L.push(`- ${k}: ${v}`);
  L.push(`- workload: ${describeWorkload("each configuration's own mount")}`);
  L.push(`- a resolution: \`fs.statSync\` (throwIfNoEntry: false) of \`inc0/<f>\`, \`inc1/<f>\`, ... until one exists, then \`openSync\`, \`readSync\`, \`closeSync\` (full variant). Timed with \`process.hrtime\`: the whole resolution, and its stat phase (until the successful stat). ${opt.statOnly ? 'Separate stat-only runs (stop at the successful stat) were made too.' : 'Separate stat-only runs are opt-in (`--stat-only`, about 2 minutes more); the stat phase of the full runs stands in for them.'} Every answer is checked (found in the right directory, right size) after the run.`);
  L.push(`- one brick (posix, locks, upcall with cache-invalidation on, io-threads, io-stats, server) and one FUSE mount (GlusterFS defaults: entry/attribute timeout 1 s, negative timeout 0) per configuration and RTT; the same brick graph for every configuration. Client graphs: \`none\` = protocol/client only; \`nl-cache\` = performance/nl-cache over it; \`glujs-nlc*\` = features/glujs running \`examples/nlc.ts\` (options \`fast on|off\`, \`timeout 60\`, default \`limit\`). \`glujs-nlc-kernel\` alone is mounted with \`--negative-timeout=600 --entry-timeout=600\` (the kernel tier); nl-cache cannot be: nothing would make the kernel forget what it cached, and it would serve stale names for 10 minutes.`);
  L.push(`- each client connects through its own \`bench/delay-proxy.js\` child process (delay RTT/2 each way), also at RTT 0 (delay 0: plain forwarding); \`none-direct\` (RTT 0 only) connects straight to the brick, to show the proxy's own cost.`);
  L.push(`- a round = one full-variant run of every configuration${opt.statOnly ? ', then one stat-only run of each' : ''}${opt.php && phpBin ? ', then one PHP run of each' : ''} (so between two runs on one mount every other configuration runs once); configuration order rotated every round; ${opt.runs} rounds after one cold run. Each statistic is the median over the runs of that run's statistic; "runs spread" is the min..max of the per-run means. Brick LOOKUPs come from the brick's io-stats \`io-stats.cumulative.LOOKUP\` count (statedump before and after every run), divided by ${N_REQUESTS}.`);
  L.push(`- caches are warm after the cold run; both are configured to expire entries after 60 s, but only glujs nlc does so more than once (see "Reading the numbers").`);
  L.push('');

  // Mechanics that explain the numbers (verified separately, see the notes)
  L.push('## Reading the numbers', '');
  L.push(`- **nl-cache's timeout fires once.** In GlusterFS 10.3 a directory's nl-cache timer is created with the first cached entry; when it fires the cache is marked invalid, and on the next access \`nlc_init_invalid_ctx\` clears it and calls \`gf_tw_mod_timer_pending\`, which does nothing for a timer that has already fired. From then on that directory's negative entries stay valid until an invalidation (upcall, own create, child down). Checked on this machine with \`nl-cache-timeout 3\` and 20 negative stats every 5 s: 21 and 22 brick LOOKUPs at 0 s and 5 s, then 2 (positive revalidations only) at 10, 15, 20 and 25 s. glujs nlc honours \`timeout 60\` for every learnt answer, so in a phase of several minutes it refills its cache about once a minute while nl-cache refills once: compare the "runs with a refill" columns. The p50 columns are barely affected by refills; the avg columns are.`);
  L.push(`- **What no cache answers.** With any cache, the brick LOOKUPs left (about 0.1-0.3 per resolution or include) are positive lookups: the kernel's 1 s FUSE entry timeout expires for files not requested within the last second, and no configuration here caches positive entries. OPEN, FLUSH and RELEASE (one each per full resolution) always reach the brick; READ does not (page cache).`);
  L.push(`- **The cold first run** follows the set-up through the same mount. glujs nlc learns whole directories from its own \`mkdir\` (a new directory is empty) and keeps them complete across its own creates, so its first run sends almost no negative LOOKUP; nl-cache (positive-entry caching off, its default) learns names one miss at a time. On a fresh client (second table) both start empty and send about the same number of LOOKUPs.`);
  L.push(`- **The proxy** is a Node process: each direction costs a wake-up and a copy, which adds ${calib.find((c) => c.rtt === 0) ? `about ${f1(calib.find((c) => c.rtt === 0)!.proxied[0] - calib.find((c) => c.rtt === 0)!.direct[0])} µs` : 'tens of µs'} to a TCP round trip at RTT 0 (table below); with a delay, the effective round trip is the target plus that overhead plus scheduling lateness. "RTT 0" is therefore loopback plus one proxy; \`none-direct\` shows loopback without it.`);
  L.push(`- **Noise.** 2 vCPUs shared with everything else on the machine (see the load and busiest-process lines above). Use the same-round ratios and the spreads, not single runs.`);
  L.push('');

  // Proxy
  L.push('## The delay proxy', '');
  L.push('TCP ping-pong of 300-byte messages in the benchmark process (echo server in-process), 3 × 200 round trips, µs (median over the 3 batches):', '');
  L.push('| target RTT ms | direct p50 | direct p90 | through proxy p50 | p90 | p99 | added p50 (proxy − direct) | expected added | chunk lateness mean µs / p99 ≤ µs / max µs |');
  L.push('|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const c of calib) {
    const s = c.stats;
    L.push(`| ${c.rtt} | ${f1(c.direct[0])} | ${f1(c.direct[1])} | ${f1(c.proxied[0])} | ${f1(c.proxied[1])} | ${f1(c.proxied[2])} | ${f1(c.proxied[0] - c.direct[0])} | ${f1(c.rtt * 1000)} | ${s ? `${s.lateMeanUs} / ${s.lateP99UsAtMost} / ${s.lateMaxUs}` : '–'} |`);
  }
  L.push('');
  L.push('Lateness of chunks inside the proxy children during the benchmark (time a chunk left after its due time; p99 is a power-of-two bucket bound):', '');
  L.push('| RTT ms | config | chunks | mean µs | p50 ≤ µs | p99 ≤ µs | max µs |', '|---:|---|---:|---:|---:|---:|---:|');
  for (const ph of phases) for (const r of ph.results) if (r.proxyStats) {
    const s = r.proxyStats;
    L.push(`| ${ph.rtt} | ${r.cfg.id} | ${s.chunks} | ${s.lateMeanUs} | ${s.lateP50UsAtMost} | ${s.lateP99UsAtMost} | ${s.lateMaxUs} |`);
  }
  L.push('');

  // Per RTT tables
  const table = (ph: Phase, v: Variant) => {
    const base = agg(ph, 'nl-cache', v);
    const nl = find(ph, 'nl-cache')?.runs[v] ?? [];
    L.push('| config | min | avg | p50 | p99 | max | runs spread (per-run avg) | brick LOOKUPs / resolution | brick fops / resolution | runs with a refill | avg / nl-cache | p50 / nl-cache | avg / nl-cache in the same round, min..max |');
    L.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
    for (const r of ph.results) {
      if (r.skipped) { L.push(`| ${r.cfg.id} | skipped: ${r.skipped.split('\n')[0].replace(/\|/g, '\\|')} ||||||||||||`); continue; }
      const a = agg(ph, r.cfg.id, v);
      if (!a) continue;
      const paired = r.runs[v].map((x, i) => ratio(x.avg, nl[i]?.avg)).filter(Number.isFinite);
      const minL = Math.min(...r.runs[v].map((x) => x.lookups)), refills = r.runs[v].filter((x) => x.lookups > minL + 0.1).length;
      L.push(`| ${r.cfg.id} | ${f3(a.min)} | ${f3(a.avg)} | ${f3(a.p50)} | ${f3(a.p99)} | ${f3(a.max)} | ${f3(a.avgLo)}..${f3(a.avgHi)} | ${f2(a.lookups)} | ${f2(a.fops)} | ${refills} | ${f2(ratio(a.avg, base?.avg))} | ${f2(ratio(a.p50, base?.p50))} | ${paired.length ? `${f2(Math.min(...paired))}..${f2(Math.max(...paired))}` : '–'} |`);
    }
    L.push('');
  };
  for (const ph of phases) {
    const c = calib.find((x) => x.rtt === ph.rtt);
    L.push(`## ${rttLabel(ph.rtt)}`, '');
    if (c) L.push(`Proxy delay ${ph.rtt / 2} ms each way; measured TCP round trip through the proxy ${f3(c.proxied[0] / 1000)} ms p50 (direct loopback ${f3(c.direct[0] / 1000)} ms).`, '');
    L.push(`Full variant (stat until found, then open/read/close), ms per resolution, ${opt.runs} runs:`, '');
    table(ph, 'full');
    L.push(`Stat phase of the same full runs (time until the successful stat; every brick LOOKUP of a resolution happens in it), ms per resolution:`, '');
    table(ph, 'phase');
    if (opt.statOnly) { L.push(`Stat-only variant (separate runs that stop at the successful stat), ms per resolution, ${opt.runs} runs:`, ''); table(ph, 'stat'); }
  }

  // Negative hits
  L.push('## Negative hits', '');
  L.push(`The latency of one \`fs.statSync\` of a name that is missing and was missed just before (10 such names, each stat'ed twice to warm, then 500 stats; once per round), µs, median over the rounds of each round's percentile. With the kernel tier the kernel answers it from its dentry cache; with nl-cache or glujs's fast path it is one FUSE round trip to the client process.`, '');
  L.push('| RTT ms | config | p50 µs | p90 µs | p50 / nl-cache |', '|---:|---|---:|---:|---:|');
  for (const ph of phases) for (const r of ph.results) if (!r.skipped && r.negHit.length) {
    const p50 = median(r.negHit.map((x) => x.p50));
    L.push(`| ${ph.rtt} | ${r.cfg.id} | ${f1(p50)} | ${f1(median(r.negHit.map((x) => x.p90)))} | ${f2(ratio(p50, negP50(ph, 'nl-cache')))} |`);
  }
  L.push('');

  // Cold
  L.push('## Cold first run', '');
  L.push(`The first run of each configuration right after its mount and set-up (full variant, one run each, not in the medians above), ms per resolution. The set-up (mkdir of the 10 directories, create of the 100 files) went through this same mount, so a cache that learns from its own mkdir/create starts with that knowledge.`, '');
  const coldRows = (pick: (r: CfgResult) => RunResult | undefined) => {
    L.push('| RTT ms | config | min | avg | p50 | p99 | max | total s | brick LOOKUPs / resolution | avg / nl-cache |', '|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|');
    for (const ph of phases) for (const r of ph.results) {
      const c = pick(r), nl = ph.results.find((x) => x.cfg.id === 'nl-cache'), b = nl && pick(nl);
      if (c) L.push(`| ${ph.rtt} | ${r.cfg.id} | ${f3(c.min)} | ${f3(c.avg)} | ${f3(c.p50)} | ${f3(c.p99)} | ${f3(c.max)} | ${f2(c.totalMs / 1000)} | ${f2(c.lookups)} | ${f2(ratio(c.avg, b?.avg))} |`);
    }
    L.push('');
  };
  coldRows((r) => r.cold);
  L.push(`Cold, fresh client: the same first run on a second FUSE mount of the same volume (same client graph and proxy), mounted with the first but left untouched until the end of the phase: its cache saw neither the set-up nor any lookup (cache configurations only).`, '');
  coldRows((r) => r.coldFresh);

  // PHP
  L.push('## PHP', '');
  if (!opt.php) L.push('Not run (--no-php).', '');
  else if (!phpBin) L.push('Not run: no `php` binary (install Debian\'s `php-cli`).', '');
  else {
    L.push(`\`${meta['php'] ?? 'php'}\`: one \`php -n -d realpath_cache_size=0 -d opcache.enable_cli=0 -d include_path=<mount>/app/inc0:..:<mount>/app/inc9 bench/php/gen/includes-${opt.phpIncludes}.php\` per run; the script (on local disk) does ${opt.phpIncludes} \`include 'fNNN.php'\` following the first ${opt.phpIncludes} requests of the same sequence and checks the sum. Wall time per php process, ${opt.runs} runs per configuration, interleaved with the runs above. PHP start-up alone (an empty script, local disk): ${meta['php start-up'] ?? '–'}.`, '');
    L.push('| RTT ms | config | median ms / run | min..max | ms / include (median, incl. start-up) | brick LOOKUPs / include | / nl-cache |', '|---:|---|---:|---:|---:|---:|---:|');
    for (const ph of phases) {
      const b = find(ph, 'nl-cache');
      const bm = b && b.php.length ? median(b.php.map((x) => x.ms)) : NaN;
      for (const r of ph.results) if (!r.skipped && r.php.length) {
        const ms = r.php.map((x) => x.ms), m = median(ms);
        L.push(`| ${ph.rtt} | ${r.cfg.id} | ${f1(m)} | ${f1(Math.min(...ms))}..${f1(Math.max(...ms))} | ${f3(m / opt.phpIncludes)} | ${f2(median(r.php.map((x) => x.lookups)))} | ${f2(m / bm)} |`);
      }
    }
    L.push('');
  }
  // Fop mix of the warm runs, for the record
  L.push('## Brick fops per resolution (warm runs, median over runs)', '');
  const fopsSeen = new Set<string>();
  for (const ph of phases) for (const r of ph.results) {
    for (const x of [...r.runs.full, ...r.runs.stat]) for (const k of x.fopMix.keys()) fopsSeen.add(k);
    for (const x of r.php) for (const k of x.mix.keys()) fopsSeen.add(k);
  }
  const fl = [...fopsSeen].sort();
  L.push(`| RTT ms | config | run | ${fl.join(' | ')} |`, `|---:|---|---|${fl.map(() => '---:').join('|')}|`);
  for (const ph of phases) for (const r of ph.results) {
    const rows: [string, FopCounts[], number][] = [['full', r.runs.full.map((x) => x.fopMix), N_REQUESTS],
      ['stat-only', r.runs.stat.map((x) => x.fopMix), N_REQUESTS], ['PHP (per include)', r.php.map((x) => x.mix), opt.phpIncludes]];
    for (const [kind, mixes, div] of rows) if (mixes.length) {
      L.push(`| ${ph.rtt} | ${r.cfg.id} | ${kind} | ${fl.map((k) => f2(median(mixes.map((m) => (m.get(k) ?? 0) / div)))).join(' | ')} |`);
    }
  }
  L.push('');
  L.push(...floorSection(opt, phases, calib));
  return L.join('\n');
}

/** Brick fops the application waits for (RELEASE is sent by the kernel after close returns). */
const syncFops = (m: FopCounts) => [...m].reduce((a, [k, n]) => a + (k === 'RELEASE' || k === 'FORGET' ? 0 : n), 0);

// The round-trip floor: each brick fop the application waits for costs at least one measured
// network round trip (the proxy's TCP p50), whatever the cache. What a configuration spends
// above its floor is local work (FUSE, the client process, JS). The floor of the OPEN and FLUSH
// alone, which every configuration sends, bounds the ratio any negative cache can reach.
function floorSection(opt: Opts, phases: Phase[], calib: Calib[]): string[] {
  const L: string[] = ['## The round-trip floor', '',
    'Brick fops the application waits for (all but RELEASE) per resolution, times the measured TCP round trip through the proxy (p50): no cache can answer faster than its floor. "above floor" is local work: FUSE, the client process, JS. "OPEN+FLUSH floor / nl-cache" is the lowest ratio any negative-lookup cache could reach here: every configuration opens and closes the found file at the brick.', '',
    '| RTT ms | run | config | waited fops / resolution | floor ms | avg ms | above floor ms | floor / nl-cache avg | avg / nl-cache avg | OPEN+FLUSH floor / nl-cache avg |',
    '|---:|---|---|---:|---:|---:|---:|---:|---:|---:|'];
  for (const ph of phases) {
    const c = calib.find((x) => x.rtt === ph.rtt);
    if (!c || ph.rtt === 0) continue; // at RTT 0 a round trip is the proxy's own cost, not a network
    const rttMs = c.proxied[0] / 1000;
    const rows: Array<[string, (r: CfgResult) => { mixes: FopCounts[]; avgs: number[]; div: number }]> = [
      ['full', (r) => ({ mixes: r.runs.full.map((x) => x.fopMix), avgs: r.runs.full.map((x) => x.avg), div: N_REQUESTS })],
      ['PHP (per include)', (r) => ({ mixes: r.php.map((x) => x.mix), avgs: r.php.map((x) => x.ms / opt.phpIncludes), div: opt.phpIncludes })],
    ];
    for (const [kind, pick] of rows) {
      const base = ph.results.find((r) => r.cfg.id === 'nl-cache' && !r.skipped);
      const baseAvg = base && pick(base).avgs.length ? median(pick(base).avgs) : NaN;
      for (const r of ph.results) {
        if (r.skipped) continue;
        const { mixes, avgs, div } = pick(r);
        if (!mixes.length) continue;
        const waited = median(mixes.map((m) => syncFops(m) / div));
        const openFlush = median(mixes.map((m) => ((m.get('OPEN') ?? 0) + (m.get('FLUSH') ?? 0)) / div));
        const avg = median(avgs), floor = waited * rttMs;
        L.push(`| ${ph.rtt} | ${kind} | ${r.cfg.id} | ${f2(waited)} | ${f3(floor)} | ${f3(avg)} | ${f3(avg - floor)} | ${f2(floor / baseAvg)} | ${f2(avg / baseAvg)} | ${f2(openFlush * rttMs / baseAvg)} |`);
      }
    }
  }
  L.push('');
  return L;
}

// ---------------------------------------------------------------- main
async function main(): Promise<void> {
  const opt = parseArgs(process.argv.slice(2));
  // --spin: a diagnostic, the glujs option spin on every glujs configuration (default: glujs's own)
  if (opt.spin !== undefined) for (const c of CONFIGS) if (c.glujs) for (const x of c.client) x.options = { ...x.options, spin: opt.spin };
  const command = ['node', path.relative(ROOT, __filename), ...process.argv.slice(2)].join(' ');
  const t0 = Date.now();
  const loadavg = () => fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  const sh = (cmd: string, args: string[]) => { try { return execFileSync(cmd, args, { encoding: 'utf8' }).trim(); } catch { return '?'; } };
  const foreign = () => sh('sh', ['-c', 'ps -eo pid=,comm= | grep -cE " (glusterfs|glusterfsd)$" || true']);
  const meta: Record<string, string> = {
    date: new Date().toISOString(),
    machine: `Linux ${sh('uname', ['-r'])}, nproc ${sh('nproc', [])}, ${/^model name\s*:\s*(.*)$/m.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? '?'}`,
    command: `\`${command}\` (runs ${opt.runs}, RTTs ${opt.rtts.join(', ')} ms${opt.php ? `, ${opt.phpIncludes} PHP includes per run` : ', no PHP'}${opt.statOnly ? '' : ', no stat-only variant'}${opt.spin !== undefined ? `, glujs option spin ${opt.spin}` : ''})`,
    GlusterFS: sh('glusterfs', ['--version']).split('\n')[0],
    node: process.version,
    'GlusterFS processes already running at start (not ours)': foreign(),
    'load average at start': loadavg(),
    'busiest other processes at start (top, %CPU of one core)': sh('sh', ['-c', "top -bn2 -d1 -w 200 | awk '/^ *PID/{n++; next} n==2 && NF>=12 && $9+0>=5 {printf \"%s%s %s%%\", sep, $12, $9; sep=\", \"}'"]) || 'none ≥ 5%',
  };
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'nlc-bench-'));
  process.on('exit', () => { killProxiesSync(); fs.rmSync(workDir, { recursive: true, force: true }); });
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => { killProxiesSync(); process.exit(130); });
  if (glujsProblem) log(`note: ${glujsProblem}; the glujs configurations will be skipped`);

  let php: { script: string; expect: string } | undefined;
  if (opt.php) {
    if (!phpBin) log('note: no php binary (apt-get install -y php-cli); PHP runs skipped');
    else {
      const ids = REQUESTS.slice(0, opt.phpIncludes);
      php = { script: phpScript(opt.phpIncludes), expect: `${ids.length} ${ids.reduce((a, b) => a + b, 0)}` };
      meta.php = sh(phpBin, ['-n', '-r', 'echo PHP_VERSION;']).split('\n')[0];
      const empty = path.join(PHP_GEN_DIR, 'empty.php');
      fs.writeFileSync(empty, '<?php echo "0 0\\n";\n');
      const ms = Array.from({ length: 5 }, () => runPhp(null, empty, '0 0'));
      meta['php start-up'] = `${f1(median(ms))} ms`;
      meta.php = `PHP ${meta.php}`;
    }
  }

  const phases: Phase[] = [];
  let calib: Calib[] = [];
  try {
    log('calibrating the delay proxy (TCP ping-pong)...');
    calib = await calibrate(opt.rtts);
    for (const c of calib) log(`  RTT ${c.rtt}: direct p50 ${f1(c.direct[0])} µs, via proxy ${f1(c.proxied[0])} µs`);
    for (const rtt of opt.rtts) phases.push(await phase(rtt, opt, php));
  } finally {
    for (const p of [...proxies]) await stopProxy(p);
  }
  meta['load average at end'] = loadavg();
  if (loads.length) meta['1-min load average after each round, min / median / max'] = `${Math.min(...loads)} / ${median(loads)} / ${Math.max(...loads)} (this benchmark alone keeps it near 1)`;
  meta['wall time'] = `${f1((Date.now() - t0) / 1000)} s`;
  const text = report(opt, phases, calib, meta);
  publish(text, RESULTS, log);
}

runMain(main, log);
