// A userspace TCP delay proxy for loopback benchmarks (the kernel here has no netem).
//
//   node dist/bench/delay-proxy.js --listen P --target Q --delay-ms D [--stats]
//
// Listens on 127.0.0.1:P (P = 0: any free port), connects every accepted connection
// to 127.0.0.1:Q and forwards bytes both ways, each chunk delayed by D ms one way
// (so the added round trip is 2·D). Order is kept per direction: every direction is
// a FIFO of (due time, chunk); due times only grow, so the head is always the next
// chunk to send. Prints "ready <port>" on stdout once listening; exits on SIGTERM,
// SIGINT or when stdin closes (its parent died). On exit it prints one line
// "stats {json}" with how late chunks left compared with their due time.
//
// Scheduling: Node's timers have 1 ms granularity (a setTimeout(…, 0.125) fires after
// ≥1 ms), far too coarse for sub-millisecond delays. So while any chunk is queued the
// proxy spins on setImmediate (each turn polls the sockets with a zero timeout, so new
// data is still stamped at once) and sends every chunk whose due time has come; a
// chunk due more than SLEEP_MARGIN_MS ahead first waits on an ordinary timer. With
// nothing queued the process sleeps in epoll. The spin costs a CPU only while a message
// is in flight, which in a one-request-at-a-time workload is when nothing else runs.
// D = 0 forwards straight from the data handler (no queue, no spin): that is the
// proxy's own cost, measured separately by the benchmark.
import * as net from 'node:net';
import { performance } from 'node:perf_hooks';

const SLEEP_MARGIN_MS = 1.5;

interface Args { listen: number; target: number; delayMs: number; }
function parseArgs(argv: string[]): Args {
  const a: Partial<Args> = {};
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i], v = Number(argv[i + 1]);
    if (k === '--listen' && Number.isInteger(v) && v >= 0 && v < 65536) a.listen = v;
    else if (k === '--target' && Number.isInteger(v) && v > 0 && v < 65536) a.target = v;
    else if (k === '--delay-ms' && Number.isFinite(v) && v >= 0) a.delayMs = v;
    else {
      process.stderr.write(`usage: delay-proxy --listen PORT --target PORT --delay-ms MS (bad: ${k} ${argv[i + 1] ?? ''})\n`);
      process.exit(2);
    }
    i++;
  }
  if (a.listen === undefined || a.target === undefined || a.delayMs === undefined) {
    process.stderr.write('usage: delay-proxy --listen PORT --target PORT --delay-ms MS\n');
    process.exit(2);
  }
  return a as Args;
}

/** One direction of one connection: chunks waiting for their due time, in order. */
interface Pipe {
  to: net.Socket;
  due: number[];          // performance.now() ms at which chunk i may leave
  chunks: (Buffer | null)[]; // null = the source ended (half-close), forwarded in order
  head: number;
}

const args = parseArgs(process.argv.slice(2));
const delay = args.delayMs;
const pending = new Set<Pipe>();
const sockets = new Set<net.Socket>();
let spinning = false, timer: NodeJS.Timeout | undefined;

// Lateness statistics (µs): a log2 histogram plus exact max, to judge the precision.
const lateHist = new Array<number>(32).fill(0);
let lateN = 0, lateSum = 0, lateMax = 0, bytes = 0, chunksIn = 0;
function noteLate(us: number): void {
  lateN++; lateSum += us; if (us > lateMax) lateMax = us;
  lateHist[Math.min(31, us < 1 ? 0 : Math.floor(Math.log2(us)) + 1)]++;
}
/** Upper bound (µs) of the histogram bucket holding quantile q. */
function lateQuantile(q: number): number {
  let seen = 0;
  for (let b = 0; b < lateHist.length; b++) {
    seen += lateHist[b];
    if (seen >= q * lateN) return b === 0 ? 1 : 2 ** b;
  }
  return lateMax;
}

function drain(p: Pipe, now: number): void {
  while (p.head < p.due.length && p.due[p.head] <= now) {
    const c = p.chunks[p.head];
    noteLate((now - p.due[p.head]) * 1000);
    p.chunks[p.head] = null;
    p.head++;
    if (c === null) p.to.end(); else if (!p.to.destroyed) p.to.write(c);
  }
  if (p.head === p.due.length) { p.due.length = 0; p.chunks.length = 0; p.head = 0; pending.delete(p); }
  else if (p.head > 1024) { p.due.splice(0, p.head); p.chunks.splice(0, p.head); p.head = 0; }
}

function tick(): void {
  spinning = false;
  const now = performance.now();
  let next = Infinity;
  for (const p of pending) {
    drain(p, now);
    if (p.head < p.due.length) next = Math.min(next, p.due[p.head]);
  }
  schedule(next, now);
}
function schedule(next: number, now: number): void {
  if (next === Infinity || spinning || timer) return;
  if (next - now > SLEEP_MARGIN_MS) {
    timer = setTimeout(() => { timer = undefined; tick(); }, Math.max(1, Math.floor(next - now - SLEEP_MARGIN_MS)));
  } else {
    spinning = true;
    setImmediate(tick);
  }
}

function enqueue(p: Pipe, c: Buffer | null): void {
  const now = performance.now();
  p.due.push(now + delay);
  p.chunks.push(c);
  pending.add(p);
  schedule(now + delay, now);
}

function pipe(from: net.Socket, to: net.Socket): void {
  if (delay === 0) {
    from.on('data', (c: Buffer) => { chunksIn++; bytes += c.length; noteLate(0); to.write(c); });
    from.on('end', () => to.end());
    return;
  }
  const p: Pipe = { to, due: [], chunks: [], head: 0 };
  from.on('data', (c: Buffer) => { chunksIn++; bytes += c.length; enqueue(p, c); });
  from.on('end', () => enqueue(p, null));
}

const server = net.createServer({ allowHalfOpen: true, noDelay: true } as net.ServerOpts, (client) => {
  client.setNoDelay(true);
  const upstream = net.connect({ host: '127.0.0.1', port: args.target, allowHalfOpen: true, noDelay: true } as net.NetConnectOpts);
  upstream.setNoDelay(true);
  sockets.add(client); sockets.add(upstream);
  const kill = () => { client.destroy(); upstream.destroy(); sockets.delete(client); sockets.delete(upstream); };
  client.on('error', kill); upstream.on('error', kill);
  client.on('close', kill); upstream.on('close', kill);
  // Data from the client may arrive before the upstream connect completes: net.Socket buffers writes.
  pipe(client, upstream);
  pipe(upstream, client);
});
server.on('error', (e) => { process.stderr.write(`delay-proxy: ${e.message}\n`); process.exit(1); });
server.listen(args.listen, '127.0.0.1', () => {
  process.stdout.write(`ready ${(server.address() as net.AddressInfo).port}\n`);
});

let exiting = false;
function exit(): void {
  if (exiting) return;
  exiting = true;
  const stats = {
    delayMs: delay, chunks: chunksIn, bytes, sent: lateN,
    lateMeanUs: lateN ? +(lateSum / lateN).toFixed(1) : 0,
    lateP50UsAtMost: lateQuantile(0.5), lateP99UsAtMost: lateQuantile(0.99), lateMaxUs: +lateMax.toFixed(1),
  };
  process.stdout.write(`stats ${JSON.stringify(stats)}\n`, () => process.exit(0));
  for (const s of sockets) s.destroy();
  server.close();
  setTimeout(() => process.exit(0), 500).unref();
}
process.on('SIGTERM', exit);
process.on('SIGINT', exit);
process.stdin.on('end', exit);
process.stdin.on('error', exit);
process.stdin.resume();
