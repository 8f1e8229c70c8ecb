// examples/nlc.ts on real volumes: GlusterFS's own nl-cache.t scenario with two
// clients and upcall, staleness bounded by the timeout without upcall, and a
// seeded randomized comparison against the brick.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { withVolume, seededRandom, type Volume } from '../lib/testing';
import { KERNEL_TIER, counters, example, fixture, glujs, errCode, sleep, until } from './util';

const nlc = (options: Record<string, string | number> = {}) => glujs('nlc', example('nlc.ts'), options);
const exists = (p: string) => errCode(() => fs.lstatSync(p)) === 'ok';
const missing = (p: string) => errCode(() => fs.lstatSync(p)) === 'ENOENT';
/** Another client's change reaches this one by an upcall on its own connection,
 * which may land a moment after the change's reply: allow it 1 s (the cache's
 * timeout is 600 s, so only the upcall can make this pass). */
const seenSoon = (p: string): Promise<boolean> => until(() => exists(p), 1000, p).then(() => true, () => false);
const goneSoon = (p: string): Promise<boolean> => until(() => missing(p), 1000, p).then(() => true, () => false);

// The third run puts a glujs pass-through on the brick, above locks and upcall
// (where `user.xlator.glujs io-threads` puts it): upcall must still reach the
// clients, so its winds must carry the client's identity.
// The fourth mounts both clients with the kernel tier: the kernel answers
// repeat lookups itself, for 600 s, and glujs makes it forget what changed.
for (const [fast, onBrick, kernel] of [['on', false, false], ['off', false, false], ['on', true, false], ['on', false, true]] as const) {
  const where = (onBrick ? ', with a glujs pass-through on the brick above upcall' : '') +
    (kernel ? ', the kernel tier on (negative-timeout=600, entry-timeout=600)' : '');
  test(`nl-cache.t rebuilt: two clients, upcall on, fast path ${fast}${where}`, async (t) => {
    const v = await withVolume(t, {
      upcall: true, mounts: 2, client: [nlc({ fast, timeout: 600 })],
      brick: onBrick ? [glujs('js-brick', fixture('await-all.ts'))] : [],
      ...(kernel ? { mountOptions: KERNEL_TIER } : {}),
    });
    const [M0, M1] = v.mounts;
    const m0 = (p: string) => path.join(M0, p), m1 = (p: string) => path.join(M1, p);

    assert.ok(missing(m0('file2')));
    fs.writeFileSync(m0('file1'), '');
    assert.ok(missing(m0('file2')));
    fs.writeFileSync(m0('file2'), '');
    assert.ok(exists(m0('file2')), 'own create is seen at once');
    fs.rmSync(m0('file2'));
    fs.rmSync(m0('file1'));

    fs.mkdirSync(m0('dir1'));
    assert.ok(missing(m0('dir1/file')));
    fs.mkdirSync(m0('dir1/dir2'));
    assert.ok(missing(m0('dir1/file')));
    assert.ok(missing(m0('dir1/dir2/file')));
    assert.ok(exists(m0('dir1/dir2')), 'own mkdir in a directory known complete');
    fs.rmdirSync(m0('dir1/dir2'));
    fs.rmdirSync(m0('dir1'));

    assert.ok(missing(m0('file2')));
    fs.writeFileSync(m1('file2'), '');
    assert.ok(await seenSoon(m0('file2')), "the other client's create is seen (upcall)");
    fs.rmSync(m1('file2'));

    assert.ok(missing(m0('dir1')));
    fs.mkdirSync(m1('dir1'));
    assert.ok(await seenSoon(m0('dir1')), "the other client's mkdir");
    assert.ok(missing(m0('dir1/file1')));
    fs.mkdirSync(m1('dir1/dir2'));
    assert.ok(missing(m0('dir1/file1')));
    assert.ok(await seenSoon(m0('dir1/dir2')));
    assert.ok(missing(m1('dir1/file1')));

    fs.writeFileSync(m0('dir1/file'), '');
    fs.linkSync(m0('dir1/file'), m0('dir1/file_link'));
    assert.ok(await seenSoon(m1('dir1/file')));
    assert.ok(await seenSoon(m1('dir1/file_link')), 'link is seen by the other client');
    fs.rmSync(m0('dir1/file'));
    fs.rmSync(m0('dir1/file_link'));
    fs.rmdirSync(m0('dir1/dir2'));
    fs.rmdirSync(m0('dir1'));

    // mknod
    assert.ok(missing(m0('dir')));
    fs.mkdirSync(m0('dir'));
    for (const [name, ...args] of [['block', 'b', '4', '5'], ['char', 'c', '1', '5'], ['fifo', 'p']]) {
      assert.ok(missing(m1(`dir/${name}`)));
      execFileSync('mknod', ['-m', '0666', m0(`dir/${name}`), ...args]);
      assert.ok(exists(m0(`dir/${name}`)), `own mknod ${name}`);
      assert.ok(await seenSoon(m1(`dir/${name}`)), `mknod ${name} seen by the other client`);
      fs.rmSync(m0(`dir/${name}`));
    }

    // symlink, and rename onto a name the other client had cached as missing
    assert.ok(missing(m1('dir/sym')));
    fs.symlinkSync('target', m0('dir/sym'));
    assert.ok(await seenSoon(m1('dir/sym')), 'symlink seen by the other client');
    assert.ok(missing(m1('dir/renamed')));
    fs.writeFileSync(m0('dir/orig'), 'x');
    fs.renameSync(m0('dir/orig'), m0('dir/renamed'));
    assert.ok(await seenSoon(m1('dir/renamed')), 'rename destination seen by the other client');
    assert.ok(missing(m1('dir/orig')));

    if (kernel) {
      // names the other client holds as found: an unlink, and a rename over one
      fs.writeFileSync(m0('dir/held'), 'a');
      fs.writeFileSync(m0('dir/over'), 'b');
      assert.ok(exists(m1('dir/held')) && exists(m1('dir/over')));
      const ino = fs.statSync(m1('dir/over')).ino;
      fs.rmSync(m0('dir/held'));
      assert.ok(await goneSoon(m1('dir/held')), 'unlink of a held name seen by the other client');
      fs.renameSync(m0('dir/renamed'), m0('dir/over'));
      assert.ok(await goneSoon(m1('dir/renamed')), 'rename source seen gone by the other client');
      assert.ok(await until(() => fs.statSync(m1('dir/over')).ino !== ino, 1000, 'rename over').then(() => true, () => false),
        'rename over a held name: the other client sees the new inode');
      // and the kernel did answer: 200 stats of a missing name it holds never reach glusterfs
      assert.ok(missing(m0('dir/never')));
      const before = await counters(v, 0);
      for (let i = 0; i < 200; i++) missing(m0('dir/never'));
      const after = await counters(v, 0);
      assert.equal(after.fast_kernel_tier, 3, 'both tiers on');
      assert.ok(after.fast_hits + after.hits - before.fast_hits - before.hits < 5,
        `the kernel answered the repeats (glujs saw ${after.fast_hits + after.hits - before.fast_hits - before.hits})`);
      assert.ok(after.fast_kernel_invalidations > 0, `kernel invalidations ${after.fast_kernel_invalidations}`);
    }

    // the cache did work: hits were served without a round trip
    const c = await counters(v, 0);
    assert.ok(c.hits > 0, `hits ${c.hits}`);
    if (fast === 'on') assert.ok(c.native_hits > 0, `native hits ${c.native_hits}`);
    assert.ok(c.invalidations_upcall > 0, `upcall invalidations ${c.invalidations_upcall}`);
    if (onBrick) assert.match(v.log('brick'), /0-js-brick: loaded translator module .*await-all\.ts/);
  });
}

test('an upcall drops native answers at once, while the JS thread is still busy', async (t) => {
  // Client 0 learns "x is missing" natively. Client 1 creates x; the upcall
  // reaches client 0, whose JS thread then stays busy until we release it. The
  // native table must already have let go of x: it is seen before the release.
  const release = path.join(fs.mkdtempSync('/tmp/glujs-upcall-'), 'release');
  t.after(() => fs.rmSync(path.dirname(release), { recursive: true, force: true }));
  const v = await withVolume(t, {
    upcall: true, mounts: 2, client: [glujs('busy', fixture('busy-upcall.ts'), { release })],
  });
  const [M0, M1] = v.mounts;
  fs.mkdirSync(path.join(M0, 'd'));
  const x0 = path.join(M0, 'd', 'x');
  assert.ok(missing(x0));
  assert.ok(missing(x0), 'a learnt negative entry');
  fs.writeFileSync(path.join(M1, 'd', 'x'), '');
  let seen = false;
  try {
    seen = await seenSoon(x0);
  } finally {
    fs.writeFileSync(release, '');
  }
  assert.ok(seen, 'the name another client created was still answered ENOENT while JS was busy');
  const c = await counters(v, 0);
  assert.ok(c.upcalls >= 1, `upcalls seen by JS ${c.upcalls}: it was busy, not absent`);
});

test('without upcall, a stale ENOENT lasts at most the timeout', async (t) => {
  const v = await withVolume(t, { upcall: false, mounts: 2, client: [nlc({ timeout: 2 })] });
  const [A, B] = v.mounts;
  fs.mkdirSync(path.join(A, 'd'));
  const a = path.join(A, 'd', 'late'), b = path.join(B, 'd', 'late');
  assert.ok(missing(a));
  assert.ok(missing(a));
  fs.writeFileSync(b, 'made by B');
  assert.ok(missing(a), 'A still has the stale negative entry (no upcall): the cache is in use');
  const t0 = Date.now();
  while (missing(a)) {
    assert.ok(Date.now() - t0 < 3000, 'stale for longer than timeout + 1 s');
    await sleep(50);
  }
  assert.ok(Date.now() - t0 <= 3000);
});

// The kernel's own positive dentry cache (entry-timeout 1 s) would answer some
// stats before they reach GlusterFS: the first run turns it off to compare nlc
// alone; the second turns the kernel tier on, where the kernel answers most.
for (const kernel of [false, true]) test(`randomized: every stat through the NLC mount agrees with the brick${kernel ? ', the kernel tier on' : ''}`, async (t) => {
  const seed = Number(process.env.GLUJS_SEED ?? Date.now() % 1_000_000);
  const rand = seededRandom(seed);
  const pick = <T>(a: T[]) => a[Math.floor(rand() * a.length)];
  const v = await withVolume(t, {
    upcall: true, mounts: 2, client: [nlc({ timeout: 600 })],
    mountOptions: kernel ? KERNEL_TIER : ['--entry-timeout=0', '--attribute-timeout=0', '--negative-timeout=0'],
  });
  const [A, B] = v.mounts;
  const dirs = ['d0', 'd1', 'd2', 'd0/s0', 'd1/s1'];
  const names = ['a', 'b', 'c', 'd', 'e', 'f'];
  for (const d of dirs) fs.mkdirSync(path.join(A, d), { recursive: true });
  const truth = (rel: string) => (exists(path.join(v.brickDir, rel)) ? 'ok' : 'ENOENT');
  let checks = 0;
  try {
    for (let step = 0; step < 400; step++) {
      const via = rand() < 0.5 ? A : B; // our own changes and the other client's
      const rel = `${pick(dirs)}/${pick(names)}`;
      const p = path.join(via, rel);
      const r = rand();
      if (r < 0.25) errCode(() => fs.writeFileSync(p, String(step)));
      else if (r < 0.4) errCode(() => fs.unlinkSync(p));
      else if (r < 0.55) errCode(() => fs.renameSync(p, path.join(via, `${pick(dirs)}/${pick(names)}`)));
      else if (r < 0.65) errCode(() => fs.mkdirSync(p));
      else if (r < 0.75) errCode(() => fs.rmdirSync(p));
      // then stat a few names through the NLC mount A
      for (let k = 0; k < 3; k++) {
        const q = k === 0 ? rel : `${pick(dirs)}/${pick(names)}`;
        const want = truth(q);
        let got = errCode(() => fs.lstatSync(path.join(A, q)));
        // an upcall from the brick may still be on its way: give it its chance
        for (let w = 0; got !== want && w < 20; w++) {
          await sleep(10);
          got = errCode(() => fs.lstatSync(path.join(A, q)));
        }
        assert.equal(got, want, `step ${step}: stat ${q} through the NLC mount`);
        checks++;
      }
    }
  } catch (e) {
    (e as Error).message += ` (GLUJS_SEED=${seed} reproduces this run)`;
    throw e;
  }
  t.diagnostic(`seed ${seed}: ${checks} stats agreed with the brick`);
  const c = await counters(v, 0);
  if (kernel) assert.ok(c.fast_kernel_recorded > 0 && c.fast_kernel_invalidations > 0,
    `kernel tier: ${c.fast_kernel_recorded} names recorded, ${c.fast_kernel_invalidations} invalidated`);
  else assert.ok(c.hits > 0, `the cache answered ${c.hits} lookups`);
});
