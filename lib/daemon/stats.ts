// Per-fop counters and latency histograms of one translator instance, for the
// statedump and dump_metrics. Latency is from the fop reaching JS to its
// completion; buckets are powers of two in microseconds.
import v8 from 'node:v8';

const BUCKETS = 24; // up to 2^23 µs (~8 s); the last bucket takes the rest

export class FopStats {
  count = 0;
  errors = 0;
  totalUs = 0;
  maxUs = 0;
  readonly hist = new Array<number>(BUCKETS).fill(0);

  add(us: number, failed: boolean): void {
    this.count++;
    if (failed) this.errors++;
    this.totalUs += us;
    if (us > this.maxUs) this.maxUs = us;
    const b = us < 1 ? 0 : Math.min(BUCKETS - 1, Math.ceil(Math.log2(us)));
    this.hist[b]++;
  }

  /** The upper bound (µs) of the bucket holding quantile q. */
  quantile(q: number): number {
    let seen = 0;
    const want = q * this.count;
    for (let b = 0; b < BUCKETS; b++) {
      seen += this.hist[b];
      if (seen >= want && seen > 0) return 2 ** b;
    }
    return 2 ** (BUCKETS - 1);
  }

  lines(fop: string): string[] {
    const h = this.hist.map((n, b) => (n ? `${2 ** b}:${n}` : '')).filter(Boolean).join(' ');
    return [
      `fop.${fop}.count=${this.count}`,
      `fop.${fop}.errors=${this.errors}`,
      `fop.${fop}.latency_avg_us=${this.count ? Math.round(this.totalUs / this.count) : 0}`,
      `fop.${fop}.latency_p50_us=${this.quantile(0.5)}`,
      `fop.${fop}.latency_p99_us=${this.quantile(0.99)}`,
      `fop.${fop}.latency_max_us=${Math.round(this.maxUs)}`,
      `fop.${fop}.latency_hist_us=${h}`,
    ];
  }
}

/** "key=value" lines: the V8 heap, ops in flight, per-fop stats, and the module's dump() fields. */
export function snapshot(stats: Map<string, FopStats>, inflight: number, extra: Record<string, unknown>): string {
  const heap = v8.getHeapStatistics();
  const lines = [
    `js_heap_used=${heap.used_heap_size}`,
    `js_heap_total=${heap.total_heap_size}`,
    `js_heap_limit=${heap.heap_size_limit}`,
    `js_ops_in_flight=${inflight}`,
  ];
  for (const [fop, s] of stats) lines.push(...s.lines(fop));
  for (const [k, v] of Object.entries(extra)) lines.push(`js.${k}=${String(v)}`);
  return lines.join('\n');
}
