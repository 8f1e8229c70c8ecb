// Translators that translate: fops a translator originates on its children
// (this.children[i].<fop>()), from a handler and from a timer, with paths
// resolved and credentials carried; op.wind to another child; dict overrides
// merged into the op's own, and in-place edits of op.xdata wound; examples/tag.ts
// in the client graphs of a glusterd cluster.
import test from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { onProcessExit, withCluster, withVolume, type Volume } from '../lib/testing';
import { Dict, DictType } from '../lib';
import { errCode, example, fixture, glujs, sleep, SLOW, until } from './util';

/** The value of js.<key> in a process's statedump, once the runtime has published it. */
async function dumped(v: Volume, which: 'brick' | number, key: string, want: (s: string) => boolean, ms = 8000): Promise<string> {
  let last = '';
  for (const end = Date.now() + ms; Date.now() < end; await sleep(300)) {
    const m = new RegExp(`^js\\.${key.replace('.', '\\.')}=(.*)$`, 'm').exec(await v.statedump(which));
    last = m?.[1] ?? '(absent)';
    if (m && want(last)) return last;
  }
  assert.fail(`js.${key} in the statedump of ${which}: last ${last}`);
}

const xattr = (file: string, name: string) =>
  execFileSync('python3', ['-c', 'import os,sys; print(os.getxattr(sys.argv[1], sys.argv[2]).decode())', file, name], { encoding: 'utf8' }).trim();

test('Dict: made from a Dict (types kept), pairs or an object; merge keeps other keys', () => {
  const a = new Dict().setTyped('g', '00000000-0000-0000-0000-000000000001', DictType.Gfid).set('n', 1);
  const b = new Dict(a);
  assert.deepEqual([...b], [...a]);
  assert.equal(b.typeOf('g'), DictType.Gfid);
  assert.deepEqual([...new Dict([['k', 'v']])], [['k', 'v']]);
  assert.deepEqual([...new Dict({ x: 2n })], [['x', 2n]]);
  assert.deepEqual([...new Dict(new Map([['m', 'v']]))], [['m', 'v']]);
  assert.deepEqual([...new Dict(a).merge(new Dict({ n: 5, z: 'z' }))], [['g', a.get('g')], ['n', 5], ['z', 'z']]);
  assert.throws(() => new Dict('abc' as never), /a Dict is made from/);
  const v0 = b.version;
  b.set('q', 'r');
  assert.ok(b.version > v0, 'an edit changes the version the runtime compares');
});

test('originate: writev asks the child for the file size (fstat on the op\'s fd): a tiny quota', async (t) => {
  const v = await withVolume(t, { client: [glujs('js-quota', fixture('quota.ts'), { limit: 1000 })] });
  const f = path.join(v.mount, 'q.dat');
  fs.writeFileSync(f, Buffer.alloc(600, 1));
  const errno = (fn: () => unknown) => { try { fn(); return 0; } catch (e) { return -((e as NodeJS.ErrnoException).errno ?? 0); } };
  assert.equal(errno(() => fs.appendFileSync(f, Buffer.alloc(600, 2))), os.constants.errno.EDQUOT, 'EDQUOT past the limit, by the size fstat returned');
  assert.equal(errCode(() => fs.appendFileSync(f, Buffer.alloc(300, 3))), 'ok', 'within it');
  assert.equal(fs.statSync(path.join(v.brickDir, 'q.dat')).size, 900);
  assert.ok(Number(await dumped(v, 0, 'fstats', (s) => Number(s) >= 3)) >= 3);
});

test('originate: fsetxattr on a new file\'s fd after create; dict overrides merge; in-place xdata edits are wound', async (t) => {
  const v = await withVolume(t, {
    client: [glujs('js-recorder', fixture('xdata-recorder.ts')), glujs('js-tagger', fixture('tagger.ts'))],
  });
  fs.writeFileSync(path.join(v.mount, 'tagged.txt'), 'x');
  fs.mkdirSync(path.join(v.mount, 'dir'));
  assert.equal(xattr(path.join(v.brickDir, 'tagged.txt'), 'user.tag'), 'made-by-js-tagger', 'the originated fsetxattr reached the brick');
  const create = await dumped(v, 0, 'create_keys', (s) => s.includes('glujs.tagger'));
  assert.match(create, /\bgfid-req\b/, 'the override was merged: gfid-req stayed (else posix fails the create with EINVAL)');
  const mkdir = await dumped(v, 0, 'mkdir_keys', (s) => s !== '(absent)');
  assert.match(mkdir, /\bglujs\.inplace\b/, 'op.xdata.set() before wind() is wound');
  assert.match(mkdir, /\bgfid-req\b/);
  assert.equal(await dumped(v, 0, 'tagged', (s) => s === '1'), '1');
  assert.equal(await dumped(v, 0, 'tag_errors', () => true), '0');
});

test('op.wind({ child }): a brick translator with two children mirrors mkdir onto the second', async (t) => {
  const second = fs.mkdtempSync(path.join(os.tmpdir(), 'glujs-second-'));
  onProcessExit(() => fs.rmSync(second, { recursive: true, force: true }));
  t.after(() => fs.rmSync(second, { recursive: true, force: true }));
  const v = await withVolume(t, {
    brick: [
      { name: 'posix2', type: 'storage/posix', options: { directory: second }, subvolumes: [] },
      { ...glujs('js-mirror', fixture('mirror.ts')), subvolumes: ['io-threads', 'posix2'] },
    ],
  });
  fs.mkdirSync(path.join(v.mount, 'm1'));
  fs.mkdirSync(path.join(v.mount, 'm1', 'm2'));
  assert.ok(fs.statSync(path.join(v.brickDir, 'm1', 'm2')).isDirectory());
  assert.ok(fs.statSync(path.join(second, 'm1', 'm2')).isDirectory(), 'the second child has them too');
  assert.equal(await dumped(v, 'brick', 'children', () => true), 'io-threads,posix2');
  assert.equal(await dumped(v, 'brick', 'mirrored', (s) => s === '2'), '2');
});

test('originate: from a timer (path resolved, daemon or given credentials) and in a handler (the caller\'s)', async (t) => {
  const v = await withVolume(t, { client: [glujs('js-originate', fixture('originate.ts'), { probe: '/d/probe' })] });
  assert.equal(await dumped(v, 0, 'probe_error', () => true), 'ENOENT', 'the path does not resolve while /d does not exist');
  fs.mkdirSync(path.join(v.mount, 'd'));
  fs.writeFileSync(path.join(v.mount, 'd', 'probe'), 'hello');
  assert.equal(await dumped(v, 0, 'probe_size', (s) => s === '5'), '5', 'the timer\'s stat found it, by lookups from the root');
  const gfid = await dumped(v, 0, 'probe_gfid', () => true);
  assert.match(gfid, /^[0-9a-f-]{36}$/);
  assert.equal(await dumped(v, 0, 'made', () => true), '1');
  const made = fs.statSync(path.join(v.brickDir, 'made-by-timer'));
  assert.deepEqual([made.uid, made.gid, made.mode & 0o777], [4321, 4321, 0o640], 'created with the credentials given ({ caller })');
  // in a handler: the op's own call stack, so the caller's uid and gid
  fs.chmodSync(v.dir, 0o711); // mkdtemp's 0700 would stop uid 23456 on the way to the mount
  fs.chmodSync(v.mount, 0o777);
  const r = spawnSync('setpriv', ['--reuid=23456', '--regid=23457', '--clear-groups', 'stat', path.join(v.mount, 'mkdir-as-me')], { encoding: 'utf8' });
  assert.match(r.stderr, /No such file or directory/, `stat as uid 23456: ${r.stderr}`);
  const byHandler = fs.statSync(path.join(v.brickDir, 'by-handler'));
  assert.deepEqual([byHandler.uid, byHandler.gid, byHandler.mode & 0o777], [23456, 23457, 0o750], 'made with the handler\'s caller\'s credentials');
  // the mistakes, each a clear error
  assert.equal(errCode(() => fs.statSync(path.join(v.mount, 'bad-args'))), 'ENOENT');
  // (the kernel may look a name up twice: the handler then runs again)
  const errors = (await dumped(v, 0, 'errors', (s) => s.split(' ').length >= 5)).split(' ').slice(0, 5);
  assert.deepEqual(errors, ['TypeError:', 'Error:ENOENT', 'TypeError:', 'TypeError:ERR_GLUJS_ORIGINATE', 'RangeError:ERR_GLUJS_CHILD']);
});

// On a cluster: glusterd places a glujs translator with one child only (`user.xlator.glujs`
// above one brick xlator; `glujs filter` splices one into the client graph, above one xlator),
// so fixtures/mirror.ts (two children) has no cluster variant: it would take a hand-written
// volfile, which is not a glusterd graph.
test('originate on a cluster: examples/tag.ts in every client graph of 2x3; a file created through either client carries user.created-by on every brick of its replica set', { timeout: 120_000 * SLOW }, async (t) => {
  const c = await withCluster(t, { hosts: 3, layout: '2x3', clients: 2, client: [{ module: example('tag.ts'), options: { interval: 600 } }] });
  for (const m of c.mounts) assert.match(m.logText(), /gv-glujs: loaded translator module .*tag\.ts/, `tag in ${m.host}'s graph`);
  // the mounts are below the cluster's 0700 directory: let uid 23456 through to them
  fs.chmodSync(c.dir, 0o711);
  const made: Array<{ name: string; who: string }> = [];
  for (const [i, m] of c.mounts.entries()) {
    fs.mkdirSync(path.join(m.dir, `d${i}`), { mode: 0o777 });
    fs.chmodSync(path.join(m.dir, `d${i}`), 0o777);
    // several names per client, so that both replica sets get some
    for (let k = 0; k < 6; k++) {
      const name = `d${i}/f${k}`;
      fs.writeFileSync(path.join(m.dir, name), name);
      made.push({ name, who: '0:0' });
    }
    // and one as another user: the caller's credentials of the create, carried to the fsetxattr
    const name = `d${i}/by-23456`, r = spawnSync('setpriv', ['--reuid=23456', '--regid=23457', '--clear-groups', 'touch', path.join(m.dir, name)], { encoding: 'utf8' });
    assert.equal(r.status, 0, `touch as uid 23456: ${r.stderr}`);
    made.push({ name, who: '23456:23457' });
  }
  const sets = new Set<number>();
  for (const { name, who } of made) {
    // the file's replica set: the one whose bricks hold it (DHT may leave a zero-size linkto elsewhere)
    const data = (f: string) => { const st = fs.statSync(f, { throwIfNoEntry: false }); return !!st && (st.mode & 0o7777) !== 0o1000; };
    const holders = c.replicaSets.map((set, i) => ({ set, i })).filter(({ set }) => set.every((b) => data(path.join(b.dir, name))));
    assert.equal(holders.length, 1, `${name} is on exactly one replica set`);
    sets.add(holders[0].i);
    for (const b of holders[0].set) assert.equal(xattr(path.join(b.dir, name), 'user.created-by'), who, `${name} on ${b.host}:${b.path}`);
  }
  assert.equal(sets.size, 2, 'files landed on both replica sets');
});
