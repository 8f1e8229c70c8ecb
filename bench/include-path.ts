// The PHP include-path workload that bench/nlc-bench.ts (one brick) and
// bench/cluster-bench.ts (a real cluster) both run, with the statistics helpers they
// share and the brick io-stats counters they read.
//
// 10 include directories <mount>/app/inc0..inc9 and 100 files f000..f099.php, file i
// only in inc((7·i) mod 10); 1000 requests from mulberry32(42), 80% to the 10 hot files
// f000..f009 (one per directory), 20% uniform over all 100. A request (a resolution)
// stats inc0/<f>, inc1/<f>, ... until one exists, then (full variant) opens, reads and
// closes it.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { seededRandom } from '../lib/testing';

export const N_DIRS = 10, N_FILES = 100, N_HOT = 10, N_REQUESTS = 1000, SEED = 42;
export const dirOf = (i: number) => (i * 7) % N_DIRS;
export const fileName = (i: number) => `f${String(i).padStart(3, '0')}.php`;
export const fileBody = (i: number) => `<?php $x[] = ${i};\n`;

/** The request sequence: file indexes. Hot files are f000..f009, which sit one per directory. */
function requests(): number[] {
  const rnd = seededRandom(SEED);
  return Array.from({ length: N_REQUESTS }, () => (rnd() < 0.8 ? Math.floor(rnd() * N_HOT) : Math.floor(rnd() * N_FILES)));
}
export const REQUESTS = requests();
/** Misses (stats of a name that is not there) per request, on average. */
export const MISSES_PER_REQUEST = REQUESTS.reduce((a, i) => a + dirOf(i), 0) / REQUESTS.length;

/** The report's description of the workload; `where` says through which mount the files were created. */
export const describeWorkload = (where: string) =>
  `${N_DIRS} include directories \`/app/inc0\`..\`/app/inc9\` (below the volume root), ${N_FILES} files \`f000.php\`..\`f099.php\`, file i only in \`inc((7·i) mod 10)\` (10 per directory), created through ${where}; ${N_REQUESTS} requests from mulberry32(${SEED}): 80% to the ${N_HOT} hot files f000..f009 (one in each directory, so a hot request costs 0..9 misses), 20% uniform over all ${N_FILES}. Average misses per request: ${f2(MISSES_PER_REQUEST)}.`;

/** The workload's tree, created through `mount`. */
export function setUp(mount: string): void {
  const app = path.join(mount, 'app');
  fs.mkdirSync(app);
  for (let d = 0; d < N_DIRS; d++) fs.mkdirSync(path.join(app, `inc${d}`));
  for (let i = 0; i < N_FILES; i++) fs.writeFileSync(path.join(app, `inc${dirOf(i)}`, fileName(i)), fileBody(i));
}

// ---------------------------------------------------------------- stats helpers
export const median = (xs: number[]) => {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b), m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
/** Nearest-rank percentile of sorted values. */
export const pct = (sorted: ArrayLike<number>, p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
export const f2 = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : '–');
export const f3 = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : '–');
export const f1 = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : '–');

// ---------------------------------------------------------------- brick statistics
export type FopCounts = Map<string, number>;
/** `<xlator>.cumulative.<FOP>=count,total,min,max,avg` lines of a brick statedump (never reset;
 * io-stats writes them with latency-measurement and count-fop-hits on). `xlator` is the io-stats
 * xlator's name: in a brick graph glusterd writes, the brick's path. */
export function cumulative(dump: string, xlator = 'io-stats'): FopCounts {
  const m = new Map<string, number>(), prefix = `${xlator}.cumulative.`;
  for (const line of dump.split('\n')) {
    const x = line.startsWith(prefix) ? /^([A-Z_]+)=(\d+),/.exec(line.slice(prefix.length)) : null;
    if (x) m.set(x[1], Number(x[2]));
  }
  if (!m.has('LOOKUP')) throw new Error(`brick statedump has no ${prefix}LOOKUP line`);
  return m;
}
export function delta(a: FopCounts, b: FopCounts): FopCounts {
  const d = new Map<string, number>();
  for (const [k, v] of b) { const x = v - (a.get(k) ?? 0); if (x) d.set(k, x); }
  return d;
}
export const sumFops = (d: FopCounts) => [...d.values()].reduce((a, b) => a + b, 0);

// ---------------------------------------------------------------- one run
/** Latency statistics of one run, ms. */
export interface Timing { min: number; avg: number; p50: number; p99: number; max: number; totalMs: number; }
export function timing(lat: Float64Array, totalMs: number): Timing {
  const avg = lat.reduce((a, b) => a + b, 0) / lat.length;
  lat.sort();
  return { min: lat[0], avg, p50: pct(lat, 50), p99: pct(lat, 99), max: lat[lat.length - 1], totalMs };
}
/** All 1000 requests once on `mount`; latencies in ms (whole resolution, and its stat phase). Throws on a wrong answer. */
export function runRequests(mount: string, variant: 'full' | 'stat'): { all: Timing; phase: Timing } {
  const inc = Array.from({ length: N_DIRS }, (_, d) => path.join(mount, 'app', `inc${d}`));
  const lat = new Float64Array(REQUESTS.length), latStat = new Float64Array(REQUESTS.length);
  const buf = Buffer.alloc(4096);
  const found = new Int8Array(REQUESTS.length), got = new Int32Array(REQUESTS.length);
  const opt = { throwIfNoEntry: false } as const;
  const t00 = process.hrtime.bigint();
  for (let r = 0; r < REQUESTS.length; r++) {
    const name = fileName(REQUESTS[r]);
    const t0 = process.hrtime.bigint();
    let d = 0, p = '';
    for (; d < N_DIRS; d++) { p = inc[d] + '/' + name; if (fs.statSync(p, opt)) break; }
    const t1 = process.hrtime.bigint();
    if (d < N_DIRS && variant === 'full') {
      const fd = fs.openSync(p, 'r');
      try { got[r] = fs.readSync(fd, buf, 0, buf.length, 0); } finally { fs.closeSync(fd); }
    }
    lat[r] = Number(process.hrtime.bigint() - t0) / 1e6;
    latStat[r] = Number(t1 - t0) / 1e6;
    found[r] = d;
  }
  const totalMs = Number(process.hrtime.bigint() - t00) / 1e6;
  for (let r = 0; r < REQUESTS.length; r++) {
    const i = REQUESTS[r];
    if (found[r] !== dirOf(i)) throw new Error(`request ${r}: ${fileName(i)} resolved in inc${found[r]} (expected inc${dirOf(i)}): stale or wrong answer`);
    if (variant === 'full' && got[r] !== Buffer.byteLength(fileBody(i))) throw new Error(`request ${r}: read ${got[r]} bytes of ${fileName(i)}`);
  }
  return { all: timing(lat, totalMs), phase: timing(latStat, latStat.reduce((a, b) => a + b, 0)) };
}

/** The latency of a stat of a name that is missing and was missed before (a negative hit, for a
 * cache), µs: 10 such names (f001.php under inc0..inc9 but its own directory), twice each to
 * warm, then 500 stats. */
export function negativeHits(mount: string): { p50: number; p90: number } {
  const names = Array.from({ length: N_DIRS }, (_, d) => d).filter((d) => d !== dirOf(1)).map((d) => path.join(mount, 'app', `inc${d}`, fileName(1)));
  const opt = { throwIfNoEntry: false } as const;
  for (const n of [...names, ...names]) if (fs.statSync(n, opt)) throw new Error(`${n} exists`);
  const lat = new Float64Array(500);
  for (let i = 0; i < lat.length; i++) {
    const t0 = process.hrtime.bigint();
    if (fs.statSync(names[i % names.length], opt)) throw new Error(`${names[i % names.length]} exists`);
    lat[i] = Number(process.hrtime.bigint() - t0) / 1000;
  }
  lat.sort();
  return { p50: pct(lat, 50), p90: pct(lat, 90) };
}
