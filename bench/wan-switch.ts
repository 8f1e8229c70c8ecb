// The emulated WAN of withCluster (lib/testing/wan-switch.py, a userspace TAP switch
// that delays every frame by rttMs/2): what it costs and what round trip it gives.
//
//   node dist/bench/wan-switch.js [--rounds N] [--rtts 0,0.25,1]
//
// For the plain bridge (veth pairs, kernel forwarding) and for the switch at each RTT,
// one cluster (3 servers, replica 3, 1 client host) each round, the configurations
// interleaved: set-up time; TCP round trip c1 -> h1 (64-byte ping-pong, Nagle off,
// 2000 trips after 200 warm-up); and a FUSE negative stat in a subdirectory (one
// LOOKUP to each of the 3 bricks, in parallel), 500 after 50 warm-up.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { startCluster, type Cluster } from '../lib/testing';
import { tcpRoundTrip } from './wan-rtt';

const args = process.argv.slice(2);
const opt = (k: string, d: string) => { const i = args.indexOf(k); return i >= 0 ? args[i + 1] : d; };
const rounds = Number(opt('--rounds', '3'));
const configs: Array<number | undefined> = [undefined, ...opt('--rtts', '0,0.25,1').split(',').map(Number)];
const label = (r: number | undefined) => (r === undefined ? 'bridge' : `switch rtt ${r} ms`);

async function measure(c: Cluster) {
  const tcp = await tcpRoundTrip(c.clients[0], c.hosts[0]);
  const d = path.join(c.mounts[0].dir, 'd');
  fs.mkdirSync(d);
  const times: number[] = [];
  for (let i = 0; i < 550; i++) {
    const t0 = process.hrtime.bigint();
    fs.statSync(path.join(d, `missing-${i}`), { throwIfNoEntry: false });
    if (i >= 50) times.push(Number(process.hrtime.bigint() - t0) / 1000);
  }
  times.sort((a, b) => a - b);
  return { tcp, stat: { p50: times[times.length >> 1], p99: times[Math.floor(times.length * 0.99)] } };
}

(async () => {
  const res = new Map<string, Array<{ setup: number; tcp50: number; tcp99: number; stat50: number }>>();
  for (let round = 0; round < rounds; round++) {
    for (const rtt of configs) {
      const c = await startCluster({ hosts: 3, layout: 'replicate 3', clients: 1, rttMs: rtt });
      try {
        const m = await measure(c);
        const row = { setup: c.setupMs, tcp50: m.tcp.p50, tcp99: m.tcp.p99, stat50: m.stat.p50 };
        (res.get(label(rtt)) ?? res.set(label(rtt), []).get(label(rtt))!).push(row);
        console.error(`round ${round + 1} ${label(rtt)}: ${JSON.stringify(row)}`);
      } finally { await c.stop(); }
    }
  }
  const med = (xs: number[]) => xs.sort((a, b) => a - b)[xs.length >> 1];
  console.log(`| network | set-up ms | TCP RTT p50 µs | TCP RTT p99 µs | negative stat p50 µs |  (medians of ${rounds} rounds)`);
  console.log('|---|---|---|---|---|');
  for (const [k, rows] of res) {
    console.log(`| ${k} | ${med(rows.map((r) => r.setup))} | ${med(rows.map((r) => r.tcp50)).toFixed(0)} | ${med(rows.map((r) => r.tcp99)).toFixed(0)} | ${med(rows.map((r) => r.stat50)).toFixed(0)} |`);
  }
})().catch((e) => { console.error(e); process.exit(1); });
