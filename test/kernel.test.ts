// The kernel tier on real volumes: a FUSE mount with negative-timeout and
// entry-timeout lets the kernel answer repeat lookups itself, and glujs keeps
// what it holds coherent (native/gluster/kernel.c). Here: a tiny limit, a hot
// reload that changes the answers, and where glujs refuses the tier. The two
// clients' scenario (nl-cache.t) and the randomized comparison with the tier
// on are in nlc.test.ts, the graph switch in glusterd.test.ts.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { withVolume, type Volume } from '../lib/testing';
import { KERNEL_TIER, counters, example, fixture, glujs, grep, errCode, sleep, until } from './util';

const missing = (p: string) => errCode(() => fs.lstatSync(p)) === 'ENOENT';
const exists = (p: string) => errCode(() => fs.lstatSync(p)) === 'ok';

test('a tiny limit: names beyond it are invalidated before they are forgotten, none stays stale', async (t) => {
  // limit 1 byte: the NLC's smallest native table, 1024 names, which bounds the kernel's records too
  const v = await withVolume(t, {
    upcall: true, mounts: 2, client: [glujs('nlc', example('nlc.ts'), { timeout: 600, limit: 1 })],
    mountOptions: KERNEL_TIER,
  });
  const [A, B] = v.mounts;
  const N = 1500;
  fs.mkdirSync(path.join(A, 'd'));
  for (let i = 0; i < N; i++) assert.ok(missing(path.join(A, 'd', `n${i}`)));
  const c = await counters(v, 0);
  assert.ok(c.fast_kernel_names <= 1024, `records ${c.fast_kernel_names} within the limit`);
  assert.ok(c.fast_kernel_evicted >= N - 1024, `evicted ${c.fast_kernel_evicted}`);
  for (let i = 0; i < N; i++) fs.writeFileSync(path.join(B, 'd', `n${i}`), '');
  const stale = async () => {
    let n = 0;
    for (let i = 0; i < N; i++) if (missing(path.join(A, 'd', `n${i}`))) n++;
    return n;
  };
  let left = await stale();
  for (let w = 0; left > 0 && w < 20; w++) { await sleep(100); left = await stale(); }
  assert.equal(left, 0, `${left} of ${N} names another client created stayed hidden`);
});

test('a hot reload that changes the answers: what the kernel held is forgotten at once', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'glujs-kreload-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const mod = path.join(dir, 'hide.ts');
  const source = fs.readFileSync(example('hide.ts'), 'utf8');
  fs.writeFileSync(mod, source);
  const v = await withVolume(t, { client: [glujs('hide', mod, { watch: 'on', prefix: 'secret' })], mountOptions: KERNEL_TIER });
  const M = v.mount;
  fs.mkdirSync(path.join(M, 'd'));
  fs.writeFileSync(path.join(v.brickDir, 'd', 'secret1'), 'x'); // on the brick, behind the translator's back
  assert.ok(missing(path.join(M, 'd', 'secret1')), 'hidden');
  assert.ok(missing(path.join(M, 'd', 'secret1')), 'hidden (the kernel holds the miss now)');
  // the new version hides nothing
  fs.writeFileSync(mod, source.replace("default: 'secret'", "default: 'nothing-matches-this'").replace('String(this.options.prefix)', "'nothing-matches-this'"));
  await until(() => grep(v.log(0), 'reloaded translator module').length > 0, 10000, 'the reload');
  await until(() => exists(path.join(M, 'd', 'secret1')), 2000, 'secret1 to appear after the reload');
  assert.match(v.log(0), /kernel tier: reload: invalidating the \d+ names the kernel may hold/);
});

test('refusal: below another translator, in a brick, and on a default mount the tier is off, and glujs works on', async (t) => {
  const v = await withVolume(t, {
    upcall: true,
    // md-cache above glujs answers lookups from its cache, which glujs never sees
    client: [glujs('nlc', example('nlc.ts'), { timeout: 600 }), { name: 'mdc', type: 'performance/md-cache' }],
    brick: [glujs('js-brick', fixture('await-all.ts'))],
    mountOptions: KERNEL_TIER,
  });
  assert.match(v.log(0), /0-nlc: kernel tier refused: mdc \(performance\/md-cache\) is above this translator and may answer lookups it never sees, so names the kernel caches may stay stale for up to negative-timeout=600 s/);
  assert.match(v.log('brick'), /0-js-brick: kernel tier off: this process is not a FUSE client/);
  fs.mkdirSync(path.join(v.mount, 'd'));
  assert.ok(missing(path.join(v.mount, 'd', 'f')));
  fs.writeFileSync(path.join(v.mount, 'd', 'f'), 'x');
  assert.equal(fs.readFileSync(path.join(v.mount, 'd', 'f'), 'utf8'), 'x');
  const c = await counters(v, 0);
  assert.equal(c.fast_kernel_tier, 0);
  assert.equal(c.fast_kernel_recorded, 0);

  const plain = await withVolume(t, { client: [glujs('nlc', example('nlc.ts'))] });
  assert.match(plain.log(0), /0-nlc: kernel tier off: the mount caches lookups only as GlusterFS does by default \(negative-timeout=0, entry-timeout=1 s\)/);
});

test('without upcall, what the kernel holds lasts at most the NLC timeout, not the negative-timeout', async (t) => {
  const v = await withVolume(t, { upcall: false, mounts: 2, client: [glujs('nlc', example('nlc.ts'), { timeout: 2 })], mountOptions: KERNEL_TIER });
  const [A, B] = v.mounts;
  fs.mkdirSync(path.join(A, 'd'));
  const a = path.join(A, 'd', 'late');
  assert.ok(missing(a));
  assert.ok(missing(a));
  fs.writeFileSync(path.join(B, 'd', 'late'), 'made by B');
  assert.ok(missing(a), 'A still has the stale miss (no upcall): the kernel holds it');
  const t0 = Date.now();
  while (missing(a)) {
    assert.ok(Date.now() - t0 < 4000, 'stale for longer than timeout + 2 s');
    await sleep(50);
  }
});
