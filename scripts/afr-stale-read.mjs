#!/usr/bin/env node
// Targeted repro of the 2x3 verify failure without fio: does AFR read a block from a brick that
// missed it, right after that brick's host comes back, while the writer's eager lock still holds
// the post-op that would accuse it? 2x3 on 3 hosts, one client; FILES files (spread over both
// replica sets), block 0 written while all is up, kill -9 h3, blocks 1..N written through open
// O_DIRECT fds (no close, no fsync), start h3 (resolves once the mount is connected to it), then
// the blocks are read through the same fds and through new ones: zeros = a stale read.
// Every brick copy of a file with a bad read is then looked at (blocks, trusted.afr.*).
//   GLUJS_CLUSTER_GLUJS=both|brick|client|none (default none)  where the await-all pass-through goes
//   AFR_OPTS='k=v,k=v'   extra volume options (default: cluster.post-op-delay-secs=1, i.e. GlusterFS's default)
// Run under the machine lock: flock /tmp/glujs-machine.lock node scripts/afr-stale-read.mjs
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const { startCluster } = require(path.join(ROOT, 'dist/lib/testing/index.js'));
const WHERE = process.env.GLUJS_CLUSTER_GLUJS ?? 'none';
const FILES = Number(process.env.FILES ?? 8), N = Number(process.env.BLOCKS ?? 64);
const options = Object.fromEntries((process.env.AFR_OPTS ?? '').split(',').filter(Boolean).map((kv) => kv.split('=')));
const passthru = { module: path.join(ROOT, 'test/fixtures/await-all.ts') };
const onBrick = WHERE === 'both' || WHERE === 'brick', onClient = WHERE === 'both' || WHERE === 'client';
const log = (...a) => console.log(new Date().toISOString().slice(11, 23), ...a);

const c = await startCluster({ hosts: 3, layout: '2x3', clients: 1, options, keep: true,
  brick: onBrick ? [passthru] : undefined, client: onClient ? [passthru] : undefined });
let bad = false;
try {
  log(`cluster ${c.dir} up in ${c.setupMs} ms; glujs ${WHERE}; options ${JSON.stringify(options)}`);
  const m = c.mounts[0].dir;
  fs.mkdirSync(path.join(m, 'd'));
  const files = Array.from({ length: FILES }, (_, i) => path.join(m, 'd', `f${i}`));
  const py = spawn('python3', [path.join(ROOT, 'scripts/afr-stale-read.py'), ...files], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = readline.createInterface({ input: py.stdout })[Symbol.asyncIterator]();
  const ask = async (cmd) => { if (cmd) py.stdin.write(cmd + '\n'); const r = await lines.next(); return r.value; };
  await ask();
  log(await ask('write 0 1'));
  await new Promise((r) => setTimeout(r, 1500));
  await c.killHost('h3'); log('killed h3');
  log(await ask(`write 1 ${N + 1}`));
  // STREAM=1: keep writing (a block of every file each STREAM_MS, default 500 ms) until h3 is back, as fio does:
  // the eager lock's post-op then stays delayed with GlusterFS's default post-op-delay-secs
  if (process.env.STREAM) log(await ask(`stream ${N + 1}`));
  const t0 = Date.now();
  // connected again = each h3 brick's protocol/client logged "Connected" once more since the kill
  // (startHost's statedump check can time out here)
  const up = (t) => ['gv-client-2', 'gv-client-5'].map((x) => t.split(`0-${x}: Connected, attached`).length - 1);
  const before = up(c.mounts[0].logText());
  const starting = c.startHost('h3').catch((e) => log(`startHost: ${String(e).slice(0, 200)}`));
  for (const end = Date.now() + 60000; Date.now() < end; await new Promise((r) => setTimeout(r, 20))) {
    const now = up(c.mounts[0].logText());
    if (now.every((n, i) => n > before[i])) break;
  }
  await new Promise((r) => setTimeout(r, Number(process.env.READ_DELAY_MS ?? 0)));
  log(`h3 back, mount connected (${Date.now() - t0} ms); client log: ${up(c.mounts[0].logText())} connects of client-2/5 (before ${before})`);
  const upto = process.env.STREAM ? Number((await ask('upto')).split(' ')[1]) : N + 1;
  const r1 = await ask(`read 0 ${upto}`); log(r1);
  await ask('reopen');
  const r2 = await ask(`read 0 ${upto}`); log('again, old and new fds:', r2);
  bad = /[1-9]\d* zero|[1-9]\d* wrong/.test(r1 + r2);
  // brick copies: per file, which copies hold block N (written while h3 was down), and their AFR xattrs
  for (const f of files) {
    const rel = path.relative(m, f);
    const rows = c.bricks.filter((b) => fs.existsSync(path.join(b.dir, rel))).map((b) => {
      const p = path.join(b.dir, rel);
      const blk = Buffer.alloc(16); const fd = fs.openSync(p, 'r'); fs.readSync(fd, blk, 0, 16, N * 4096); fs.closeSync(fd);
      const x = execFileSync('getfattr', ['-d', '-m', 'trusted.afr', '-e', 'hex', p], { encoding: 'utf8' }).split('\n').filter((l) => l.startsWith('trusted')).join(' ');
      return `${b.host}: size ${fs.statSync(p).size}, block ${N} ${blk.every((x) => x === 0) ? 'ZERO' : 'data'}; ${x}`;
    });
    log(`${rel}: ${rows.join(' || ')}`);
  }
  py.stdin.end();
  await starting;
} finally {
  await c.stop();
  if (!bad && !fs.readFileSync('/proc/self/mountinfo', 'utf8').includes(` ${c.dir}`)) fs.rmSync(c.dir, { recursive: true, force: true });
  log(bad ? `STALE READ (kept ${c.dir})` : 'clean');
}
