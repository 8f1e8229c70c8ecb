// glujs on a real multi-host cluster (lib/testing/cluster.ts: a namespace, a glusterd
// and bricks per host; clients on hosts of their own): the NLC across hosts, with and
// without the kernel tier, and a rolling module upgrade under load. Data integrity
// through host kills and partitions is in test/stress/cluster.test.ts (fast in npm
// test, full in npm run test:stress).
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { withCluster, type Cluster } from '../lib/testing';
import { readText } from '../lib/testing/proc';
import { KERNEL_TIER, dumpCounters, example, fixture, grep, sleep, SLOW, until } from './util';

const passthru = { module: fixture('await-all.ts') };

const exists = (p: string) => fs.promises.lstat(p).then(() => true, () => false);
/** ms until `ok()` holds, or -1 after `ms`. */
async function within(ms: number, ok: () => Promise<boolean>): Promise<number> {
  const t0 = Date.now();
  for (; Date.now() - t0 < ms; await sleep(20)) if (await ok()) return Date.now() - t0;
  return (await ok()) ? Date.now() - t0 : -1;
}
const seenWithin = (p: string, ms: number) => within(ms, () => exists(p));
const goneWithin = (p: string, ms: number) => within(ms, async () => !(await exists(p)));
/** nlc's counters in every client's statedump, after the runtime's next publication (once a second). */
async function nlcCounters(c: Cluster): Promise<Array<Record<string, number>>> {
  await sleep(1100);
  return Promise.all(c.mounts.map(async (m) => dumpCounters(await m.statedump())));
}

/**
 * The NLC in the client graph of 3 client hosts over 2x3, glujs on the bricks too: every change
 * made through one client to a name the two others hold is seen by them within 1 s. The names
 * are held as misses (each observer stats it twice first); with the kernel tier (FUSE
 * negative-timeout and entry-timeout 600 s) the kernel holds them, and it holds found names too:
 * then an unlink and a rename over a found name must reach the observers as well.
 */
async function nlcAcrossHosts(t: test.TestContext, kernel: boolean): Promise<void> {
  const c = await withCluster(t, {
    hosts: 3, layout: '2x3', clients: 3, brick: [passthru],
    client: [{ module: example('nlc.ts'), options: { timeout: 600 } }], // only an upcall can make a cached miss go
    options: { 'features.cache-invalidation': 'on' },
    ...(kernel ? { mountOptions: KERNEL_TIER } : {}),
  });
  t.diagnostic(`2x3, 3 clients${kernel ? ', kernel tier' : ''}: cluster up in ${c.setupMs} ms`);
  for (const m of c.mounts) {
    assert.match(m.logText(), /gv-glujs: loaded translator module .*nlc\.ts/);
    assert.doesNotMatch(m.logText(), /relies on upcall/);
    assert.match(m.logText(), kernel ? /gv-glujs: kernel tier on: / : /gv-glujs: kernel tier off: /, `${m.host}'s init line`);
  }
  assert.equal(grep(c.brickLog(), /loaded translator module .*await-all\.ts/).length, c.bricks.length);
  const at = (i: number, p: string) => path.join(c.mounts[i].dir, 'd', p);
  await fs.promises.mkdir(at(0, ''));
  for (let i = 0; i < 3; i++) assert.ok(await exists(at(i, '')), `d on client ${i}`);
  /** every observer has `p` (and holds it: entry-timeout) within 2 s */
  const held = async (p: string, others: number[]) => {
    for (const o of others) assert.ok(await seenWithin(at(o, p), 2000) >= 0, `${p} on client ${o}`);
  };

  // a change to a missing name: made through client a, the others must then see it
  const toMissing: Record<string, (a: number, n: string, others: number[]) => Promise<void>> = {
    create: async (a, n) => fs.promises.writeFile(at(a, n), n),
    mkdir: async (a, n) => fs.promises.mkdir(at(a, n)),
    rename: async (a, n, others) => {
      await fs.promises.writeFile(at(a, `${n}.src`), n);
      await held(`${n}.src`, others);
      await fs.promises.rename(at(a, `${n}.src`), at(a, n));
    },
    link: async (a, n, others) => {
      // the observers know the target (GlusterFS's upcall only tells the clients that know it: PLATFORM.md)
      await fs.promises.writeFile(at(a, `${n}.tgt`), n);
      await held(`${n}.tgt`, others);
      await fs.promises.link(at(a, `${n}.tgt`), at(a, n));
    },
  };
  // a change to a name the others hold as found: the change, then what observer o must see
  const toHeld: Record<string, (a: number, n: string, others: number[]) => Promise<(o: number) => Promise<number>>> = {
    unlink: async (a, n, others) => {
      await fs.promises.writeFile(at(a, n), n);
      await held(n, others);
      await fs.promises.unlink(at(a, n));
      return (o) => goneWithin(at(o, n), 1000);
    },
    'rename-over': async (a, n, others) => {
      await fs.promises.writeFile(at(a, n), 'old');
      await fs.promises.writeFile(at(a, `${n}.new`), 'new');
      await held(n, others);
      await held(`${n}.new`, others);
      const ino = new Map(await Promise.all(others.map(async (o) => [o, (await fs.promises.stat(at(o, n))).ino] as const)));
      await fs.promises.rename(at(a, `${n}.new`), at(a, n));
      return (o) => within(1000, async () => !(await exists(at(o, `${n}.new`))) &&
        (await fs.promises.stat(at(o, n)).then((s) => s.ino !== ino.get(o), () => false)));
    },
  };
  const seen: string[] = [], late: string[] = [];
  let k = 0;
  const each = async (op: string, change: (a: number, n: string, others: number[]) => Promise<(o: number) => Promise<number>>) => {
    for (let a = 0; a < 3; a++) {
      const n = `${op}-${k++}`, others = [0, 1, 2].filter((x) => x !== a);
      const check = await change(a, n, others);
      for (const o of others) {
        const ms = await check(o);
        (ms >= 0 ? seen : late).push(`${op} on c${a + 1} -> c${o + 1}: ${ms} ms`);
      }
    }
  };
  for (const [op, f] of Object.entries(toMissing)) {
    await each(op, async (a, n, others) => {
      // each observer caches the miss (twice: the second is a cache hit, the kernel's with the tier)
      for (const o of others) for (let r = 0; r < 2; r++) assert.equal(await exists(at(o, n)), false, `${n} missing on client ${o}`);
      await f(a, n, others);
      return (o) => seenWithin(at(o, n), 1000);
    });
  }
  if (kernel) for (const [op, f] of Object.entries(toHeld)) await each(op, f);
  t.diagnostic(`seen: ${seen.join('; ')}`);
  assert.deepEqual(late, [], 'every change is seen by the other clients within 1 s');
  assert.equal(seen.length, (Object.keys(toMissing).length + (kernel ? Object.keys(toHeld).length : 0)) * 3 * 2);

  if (kernel) {
    // repeat stats of a miss never reach glusterfs: the kernel answers them
    for (let i = 0; i < 3; i++) assert.equal(await exists(at(i, 'never')), false);
    const before = await nlcCounters(c);
    for (let i = 0; i < 3; i++) for (let r = 0; r < 200; r++) assert.equal(await exists(at(i, 'never')), false);
    const after = await nlcCounters(c);
    for (const [i, x] of after.entries()) {
      const reached = x.fast_hits + x.hits - before[i].fast_hits - before[i].hits;
      t.diagnostic(`c${i + 1}: kernel tier ${x.fast_kernel_tier}, recorded ${x.fast_kernel_recorded}, kernel invalidations ${x.fast_kernel_invalidations}, ` +
        `upcall invalidations ${x.invalidations_upcall}; of 200 repeat stats of a miss ${reached} reached glujs`);
      assert.equal(x.fast_kernel_tier, 3, `c${i + 1}: both tiers on`);
      assert.ok(reached < 5, `c${i + 1}: the kernel answered the repeats (glujs saw ${reached})`);
      assert.ok(x.fast_kernel_invalidations > 0, `c${i + 1}: the kernel was told to forget names (${x.fast_kernel_invalidations})`);
      assert.ok(x.invalidations_upcall > 0, `c${i + 1} was invalidated by upcall (${x.invalidations_upcall})`);
    }
  } else {
    const counters = await nlcCounters(c);
    t.diagnostic(`nlc counters: ${counters.map((x, i) => `c${i + 1} hits ${x.hits} misses ${x.misses} upcall invalidations ${x.invalidations_upcall}`).join('; ')}`);
    for (const [i, x] of counters.entries()) {
      assert.ok(x.hits >= 8, `client ${i + 1} answered cached misses itself (hits ${x.hits})`);
      assert.ok(x.invalidations_upcall > 0, `client ${i + 1} was invalidated by upcall (${x.invalidations_upcall})`);
    }
  }
}

test('NLC on 3 client hosts over 2x3, glujs on the bricks too: creates, renames, links, mkdirs through any client are seen by the others within 1 s', { timeout: 120_000 * SLOW },
  (t) => nlcAcrossHosts(t, false));

test('NLC with the kernel tier on 3 client hosts over 2x3 (negative-timeout=600, entry-timeout=600): creates, renames, links, mkdirs, ' +
  'unlinks and renames over held names through any client are seen by the others within 1 s; repeat misses are answered by the kernel', { timeout: 120_000 * SLOW },
  (t) => nlcAcrossHosts(t, true));

/** A child process doing write/read-back/stat/readdir in `dir` until SIGTERM; the last stdout line is {ops, errors, mismatches}. */
const LOOP = `
const fs = require('fs'), path = require('path');
const dir = process.argv[1], s = { ops: 0, errors: {}, mismatches: 0 };
let stop = false;
process.on('SIGTERM', () => { stop = true; });
(async () => {
  for (let i = 0; !stop; i++) {
    const f = path.join(dir, 'f' + (i % 16)), data = Buffer.alloc(8192 + i % 4096, i & 255);
    try {
      await fs.promises.writeFile(f, data);
      if (!(await fs.promises.readFile(f)).equals(data)) s.mismatches++;
      await fs.promises.stat(f);
      await fs.promises.readdir(dir);
      s.ops += 4;
    } catch (e) { s.errors[e.code || String(e)] = (s.errors[e.code || String(e)] || 0) + 1; }
  }
  process.stdout.write(JSON.stringify(s) + '\\n');
})();
`;

test('rolling upgrade under load: a new brick module by volume set reloads in every brick, a filter change in every client; 0 failed fops', { timeout: 120_000 * SLOW }, async (t) => {
  const mods = fs.mkdtempSync(path.join(os.tmpdir(), 'glujs-roll-'));
  t.after(() => fs.rmSync(mods, { recursive: true, force: true }));
  const version = (n: string) => {
    const f = path.join(mods, `${n}.ts`);
    fs.copyFileSync(fixture('await-all.ts'), f);
    return f;
  };
  const [b1, b2, c1, c2] = ['brick-v1', 'brick-v2', 'client-v1', 'client-v2'].map(version);
  const c = await withCluster(t, { hosts: 3, layout: 'replicate 3', clients: 2, brick: [{ module: b1 }], client: [{ module: c1 }] });
  t.diagnostic(`replica 3, 2 clients: cluster up in ${c.setupMs} ms`);
  assert.equal(grep(c.brickLog(), /loaded translator module .*brick-v1\.ts/).length, 3);
  const d = path.join(c.mounts[0].dir, 'load');
  fs.mkdirSync(d);
  const load = spawn(process.execPath, ['-e', LOOP, d], { stdio: ['ignore', 'pipe', 'inherit'] });
  let report = '';
  load.stdout!.on('data', (b) => { report += b; });
  try {
    await sleep(1500);
    const t0 = Date.now();
    await c.set('user.xlator.glujs.module', b2);
    for (const b of c.bricks) {
      await until(() => grep(readText(b.log), /reloaded translator module .*brick-v2\.ts/).length === 1, 20000 * SLOW, `the reload on ${b.host}`);
    }
    const bricksMs = Date.now() - t0;
    const t1 = Date.now();
    await c.installFilter({ module: c2 });
    for (const m of c.mounts) await until(() => grep(m.logText(), /gv-glujs: reloaded translator module .*client-v2\.ts/).length === 1, 20000 * SLOW, `the reload on ${m.host}`);
    const clientsMs = Date.now() - t1;
    await sleep(1500); // the load runs on the new modules
    load.kill('SIGTERM');
    await new Promise((r) => load.once('exit', r));
    const stats = JSON.parse(report.trim().split('\n').pop()!) as { ops: number; errors: Record<string, number>; mismatches: number };
    t.diagnostic(`every brick reloaded ${bricksMs} ms after volume set, every client ${clientsMs} ms after the filter change; load: ${JSON.stringify(stats)}`);
    assert.doesNotMatch(c.brickLog() + c.mounts.map((m) => m.logText()).join(''), /cannot reload translator module/);
    assert.ok(stats.ops > 100, `the load ran (${stats.ops} ops)`);
    assert.deepEqual(stats.errors, {}, 'no failed fop');
    assert.equal(stats.mismatches, 0);
  } finally {
    if (load.exitCode === null) load.kill('SIGKILL');
  }
});
