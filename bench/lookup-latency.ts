// What glujs adds to a negative lookup (FUSE defaults: every negative stat is one
// LOOKUP), in one run with the configurations interleaved round by round:
//   A  no glujs                          C  JS lookup handler that forwards (reply bypasses JS)
//   B  JS lookup handler that winds      D  glujs loaded, no lookup handler (must equal A)
//   B0 as B, with option spin 0 (the JS thread sleeps as soon as it is idle)
// Also: the client process's CPU per lookup and when idle (what the spin costs).
// Also: client RSS after the run and the start-up cost (startVolume wall time and
// the client log's "Started running" -> "switched to graph" span), medians over fresh starts.
//
//   node dist/bench/lookup-latency.js [--rounds N] [--calls N] [--starts N] [--warmup N]
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startVolume, type Volume, type XlatorSpec } from '../lib/testing';

const ROOT = path.resolve(__dirname, '..', '..'); // run from dist/bench
const moduleFile = (name: string) => path.join(ROOT, 'bench', 'modules', name);
const glujs = (name: string, file: string, options: Record<string, string | number> = {}): XlatorSpec =>
  ({ name, type: process.env.GLUJS_TYPE || 'features/glujs', options: { module: moduleFile(file), ...options } });

interface Config { id: string; what: string; client: XlatorSpec[]; }
const CONFIGS: Config[] = [
  { id: 'A', what: 'no glujs', client: [] },
  { id: 'B', what: 'glujs, JS `lookup` winds (`op.wind()`)', client: [glujs('lookup-wind', 'lookup-wind.ts')] },
  { id: 'C', what: 'glujs, JS `lookup` forwards (`op.forward()`)', client: [glujs('lookup-forward', 'lookup-forward.ts')] },
  { id: 'D', what: 'glujs, no `lookup` handler', client: [glujs('no-lookup', 'no-lookup.ts')] },
  { id: 'B0', what: 'as B, option `spin 0`', client: [glujs('lookup-wind', 'lookup-wind.ts', { spin: 0 })] },
];
/** CPU time (user + system) of process pid so far, ms. */
function cpuMs(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / 100; // utime, stime in USER_HZ (100)
}

class UsageError extends Error {}
function parseArgs(argv: string[]) {
  const o = { rounds: 10, calls: 5000, starts: 3, warmup: 2000 };
  for (let i = 0; i < argv.length; i++) {
    const key = argv[i].replace(/^--/, '') as keyof typeof o;
    const val = Number(argv[i + 1]);
    if (!(key in o) || !Number.isInteger(val) || val < (key === 'warmup' ? 0 : 1)) {
      throw new UsageError(`usage: lookup-latency [--rounds N] [--calls N] [--starts N] [--warmup N] (bad: ${argv[i]} ${argv[i + 1] ?? ''})`);
    }
    o[key] = val;
    i++;
  }
  return o;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b), m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
/** Nearest-rank percentile of sorted values. */
const pct = (sorted: Float64Array, p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];

interface RoundStats { p50: number; p90: number; p99: number; mean: number; }
/** `calls` stats of distinct missing names; latencies in µs. */
function measure(names: string[]): RoundStats {
  const lat = new Float64Array(names.length);
  for (let i = 0; i < names.length; i++) {
    const t0 = process.hrtime.bigint();
    try { fs.statSync(names[i]); throw new Error(`${names[i]} exists`); } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    lat[i] = Number(process.hrtime.bigint() - t0) / 1000;
  }
  const mean = lat.reduce((a, b) => a + b, 0) / lat.length;
  lat.sort();
  return { p50: pct(lat, 50), p90: pct(lat, 90), p99: pct(lat, 99), mean };
}

/** Wall time from the client log's "Started running" line to the first line matching `to`, in ms. */
function logSpanMs(log: string, to: RegExp): number | undefined {
  const ts = (re: RegExp) => {
    const m = log.match(new RegExp(`^\\[(\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\.\\d{6})[^\\]]*\\].*${re.source}`, 'm'));
    return m ? Date.parse(m[1].slice(0, 23).replace(' ', 'T') + 'Z') + Number(m[1].slice(23)) / 1000 : undefined;
  };
  const a = ts(/glusterfsd\.c:\d+:main\].*Started running/), b = ts(to);
  return a !== undefined && b !== undefined ? b - a : undefined;
}

function procStatus(pid: number): { rssMB: number; threads: number } {
  const s = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/^VmRSS:\s+(\d+)/m.exec(s)?.[1]);
  return { rssMB: kb / 1024, threads: Number(/^Threads:\s+(\d+)/m.exec(s)?.[1]) };
}

const f1 = (x: number) => x.toFixed(1);
const f2 = (x: number) => x.toFixed(2);

async function main(): Promise<void> {
  const opt = parseArgs(process.argv.slice(2));
  const command = ['node', path.relative(ROOT, __filename), ...process.argv.slice(2)].join(' ');
  const loadavg = () => fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  const loadBefore = loadavg();
  const log = (s: string) => process.stderr.write(s + '\n');
  const volumes = new Map<string, Volume>();
  const started: Volume[] = []; // everything to stop, also on error
  try {
    // 1. Start-up cost: fresh volumes, interleaved, each stopped at once.
    const startMs = new Map<string, number[]>(CONFIGS.map((c) => [c.id, []]));
    const spanMs = new Map<string, number[]>(CONFIGS.map((c) => [c.id, []]));
    const loadedMs = new Map<string, number[]>(CONFIGS.map((c) => [c.id, []]));
    for (let s = 0; s < opt.starts; s++) {
      for (const c of CONFIGS) {
        const t0 = process.hrtime.bigint();
        const v = await startVolume({ client: c.client });
        startMs.get(c.id)!.push(Number(process.hrtime.bigint() - t0) / 1e6);
        started.push(v);
        const span = logSpanMs(v.log(0), /switched to graph/);
        if (span !== undefined) spanMs.get(c.id)!.push(span);
        const loaded = c.client.length ? logSpanMs(v.log(0), new RegExp(`0-${c.client[0].name}: loaded translator module`)) : undefined;
        if (loaded !== undefined) loadedMs.get(c.id)!.push(loaded);
        await v.stop();
      }
      log(`start-up ${s + 1}/${opt.starts} done`);
    }

    // 2. One volume per configuration, kept for all rounds.
    for (const c of CONFIGS) {
      const v = await startVolume({ client: c.client });
      started.push(v);
      volumes.set(c.id, v);
      if (c.client.length && !v.log(0).includes(`0-${c.client[0].name}: loaded translator module`)) {
        throw new Error(`config ${c.id}: no "loaded translator module" line in ${v.clientLogs[0]}`);
      }
      fs.mkdirSync(path.join(v.mount, 'sub'));
      const warm = Array.from({ length: opt.warmup }, (_, i) => path.join(v.mount, 'sub', `warm-${i}`));
      if (warm.length) measure(warm);
    }
    log(`${CONFIGS.length} volumes up; ${opt.rounds} rounds x ${opt.calls} stats per config`);

    // 3. Rounds: every config once per round, order rotated each round.
    const rounds = new Map<string, RoundStats[]>(CONFIGS.map((c) => [c.id, []]));
    const cpuPerCall = new Map<string, number[]>(CONFIGS.map((c) => [c.id, []]));
    for (let r = 0; r < opt.rounds; r++) {
      const order = CONFIGS.map((_, i) => CONFIGS[(i + r) % CONFIGS.length]);
      for (const c of order) {
        const mnt = volumes.get(c.id)!.mount;
        const names = Array.from({ length: opt.calls }, (_, i) => path.join(mnt, 'sub', `r${r}-missing-${i}`));
        const pid = volumes.get(c.id)!.clientPids[0], c0 = cpuMs(pid);
        rounds.get(c.id)!.push(measure(names));
        cpuPerCall.get(c.id)!.push(((cpuMs(pid) - c0) * 1000) / opt.calls);
      }
      log(`round ${r + 1}/${opt.rounds}: ` + CONFIGS.map((c) => `${c.id} p50 ${f1(rounds.get(c.id)![r].p50)}`).join(', ') + ' µs');
    }

    // 4. Memory and threads of each client after the run.
    const mem = new Map(CONFIGS.map((c) => [c.id, procStatus(volumes.get(c.id)!.clientPids[0])]));
    // 4b. Idle CPU: 1 s after the last round, each client's CPU over 5 s, % of one core.
    await new Promise((r) => setTimeout(r, 1000));
    const idle0 = new Map(CONFIGS.map((c) => [c.id, cpuMs(volumes.get(c.id)!.clientPids[0])]));
    await new Promise((r) => setTimeout(r, 5000));
    const idlePct = new Map(CONFIGS.map((c) => [c.id, ((cpuMs(volumes.get(c.id)!.clientPids[0]) - idle0.get(c.id)!) / 5000) * 100]));

    // 5. Report.
    const agg = new Map(CONFIGS.map((c) => {
      const rs = rounds.get(c.id)!;
      return [c.id, { p50: median(rs.map((x) => x.p50)), p90: median(rs.map((x) => x.p90)),
        p99: median(rs.map((x) => x.p99)), mean: median(rs.map((x) => x.mean)) }];
    }));
    const a = agg.get('A')!;
    /** p50 of config id minus A's, signed. */
    const added = (id: string) => { const d = agg.get(id)!.p50 - a.p50; return `${d >= 0 ? '+' : '−'}${f1(Math.abs(d))}`; };
    const kernel = os.release();
    let uname = kernel;
    try { uname = execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim(); } catch { /* os.release() */ }
    const cpus = os.cpus();
    const lines = [
      '# glujs: negative lookup latency',
      '',
      `- date: ${new Date().toISOString()}`,
      `- kernel: ${uname}; nproc: ${os.availableParallelism?.() ?? cpus.length} (${cpus[0]?.model ?? '?'}); node ${process.version}`,
      `- command: \`${command}\` (rounds ${opt.rounds}, calls ${opt.calls}, starts ${opt.starts}, warmup ${opt.warmup})`,
      `- load average before / after: ${loadBefore} / ${loadavg()}`,
      `- method: one brick + one FUSE mount per config (FUSE defaults), \`fs.statSync\` of distinct missing names in a`,
      `  subdirectory, ${opt.calls} calls per config per round, ${opt.rounds} rounds, order rotated each round, unpinned`,
      `  (2-core VM: expect ±30% noise between runs; compare ratios within one run). Each figure is the median over`,
      `  rounds of that round's statistic.`,
      '',
      '| config | what | p50 µs | p90 µs | p99 µs | mean µs | p50 / A | mean / A | per-round p50 / A: median (min–max) |',
      '|---|---|---:|---:|---:|---:|---:|---:|---:|',
      ...CONFIGS.map((c) => {
        const s = agg.get(c.id)!;
        const perRound = rounds.get(c.id)!.map((x, r) => x.p50 / rounds.get('A')![r].p50);
        return `| ${c.id} | ${c.what} | ${f1(s.p50)} | ${f1(s.p90)} | ${f1(s.p99)} | ${f1(s.mean)} | ${f2(s.p50 / a.p50)} | ` +
          `${f2(s.mean / a.mean)} | ${f2(median(perRound))} (${f2(Math.min(...perRound))}–${f2(Math.max(...perRound))}) |`;
      }),
      '',
      `Ratios of the p50s: B/A ${f2(agg.get('B')!.p50 / a.p50)}, C/A ${f2(agg.get('C')!.p50 / a.p50)}, D/A ${f2(agg.get('D')!.p50 / a.p50)}` +
        ` (added p50: B ${added('B')} µs, C ${added('C')} µs, D ${added('D')} µs).`,
      '',
      `Added p50 over A, as B with the default spin and as B0 with \`spin 0\`: B ${added('B')} µs, B0 ${added('B0')} µs.`,
      '',
      'CPU of the client process (user + system, from /proc/PID/stat, 10 ms ticks): per lookup during the rounds (median over rounds), and idle (5 s, 1 s after the last round):',
      '',
      '| config | CPU µs / lookup | CPU µs / lookup - A | idle CPU % of a core |',
      '|---|---:|---:|---:|',
      ...CONFIGS.map((c) => `| ${c.id} | ${f1(median(cpuPerCall.get(c.id)!))} | ${f1(median(cpuPerCall.get(c.id)!) - median(cpuPerCall.get('A')!))} | ${f2(idlePct.get(c.id)!)} |`),
      '',
      `Per-round p50 (µs), to judge the noise:`,
      '',
      `| config | ${rounds.get('A')!.map((_, i) => `r${i + 1}`).join(' | ')} |`,
      `|---|${rounds.get('A')!.map(() => '---:').join('|')}|`,
      ...CONFIGS.map((c) => `| ${c.id} | ${rounds.get(c.id)!.map((x) => f1(x.p50)).join(' | ')} |`),
      '',
      `Client process after the run, and start-up (median of ${opt.starts} fresh starts per config, interleaved):`,
      '',
      '| config | client VmRSS MB | client threads | startVolume ms (brick + mount) | client log: start -> "loaded translator module" ms | client log: start -> "switched to graph" ms |',
      '|---|---:|---:|---:|---:|---:|',
      ...CONFIGS.map((c) => {
        const m = mem.get(c.id)!, med = (xs: number[]) => (xs.length ? f1(median(xs)) : '–');
        return `| ${c.id} | ${f1(m.rssMB)} | ${m.threads} | ${med(startMs.get(c.id)!)} | ${med(loadedMs.get(c.id)!)} | ${med(spanMs.get(c.id)!)} |`;
      }),
      '',
    ];
    const text = lines.join('\n');
    process.stdout.write(text);
    const out = path.join(ROOT, 'bench', 'results', 'lookup-latency.md');
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.writeFileSync(out, text);
    log(`written to ${path.relative(process.cwd(), out) || out}`);
  } finally {
    await Promise.all(started.map((v) => v.stop().catch((e) => log(`stop ${v.dir}: ${e}`))));
  }
}

main().catch((e) => {
  console.error(e instanceof UsageError ? e.message : e instanceof Error ? e.stack ?? e.message : e);
  process.exitCode = e instanceof UsageError ? 2 : 1;
});
