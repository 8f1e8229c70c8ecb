// The TCP round trip between two hosts of a cluster (lib/testing/cluster.ts), as its
// network really gives it: an echo server on one host, a 64-byte ping-pong (Nagle off)
// from another, 2000 trips after 200 warm-up. Shared by bench/wan-switch.ts and
// bench/cluster-bench.ts.
import type { ClusterHost } from '../lib/testing';

const PINGER = `
const net = require('net');
const s = net.connect(7777, process.argv[1], () => {
  s.setNoDelay(true);
  const msg = Buffer.alloc(64, 1), times = [];
  let n = 0, got = 0, t0 = 0n;
  const send = () => { t0 = process.hrtime.bigint(); s.write(msg); };
  s.on('data', (b) => {
    got += b.length;
    if (got < 64) return;
    got -= 64;
    if (n++ >= 200) times.push(Number(process.hrtime.bigint() - t0) / 1000);
    if (n < 2200) send(); else { s.end(); times.sort((a, b) => a - b); console.log(JSON.stringify({ p50: times[times.length >> 1], p99: times[Math.floor(times.length * 0.99)] })); }
  });
  send();
});`;

/** TCP round trip from `from` to `to` (echo server on port 7777 of `to`), µs. */
export async function tcpRoundTrip(from: ClusterHost, to: ClusterHost): Promise<{ p50: number; p99: number }> {
  const echo = to.spawn(process.execPath, ['-e', "require('net').createServer((s) => { s.setNoDelay(true); s.pipe(s); }).listen(7777, () => console.log('ready'))"]);
  try {
    await new Promise((r) => echo.stdout!.once('data', r));
    const r = await from.exec(process.execPath, ['-e', PINGER, to.name]);
    return JSON.parse(r.out) as { p50: number; p99: number };
  } finally { echo.kill(); }
}
