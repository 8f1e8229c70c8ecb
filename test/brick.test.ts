// glujs on a brick, above features/locks and features/upcall (where
// `user.xlator.glujs io-threads` puts it): the fops it winds must still carry the
// client's identity (frame->root->client), or locks stop being exclusive between
// clients, a dead client's locks are never freed, and upcall stops reaching the
// other clients. test/locks/lockprobe.c takes POSIX locks (Node has no fcntl).
import test from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { onProcessExit, withVolume } from '../lib/testing';
import { startGlusterd } from '../lib/testing/glusterd';
import { run } from '../lib/testing/proc';
import { ROOT, GLUJS_TYPE, errCode, fixture, glujs, sleep, until } from './util';

let probeBin = '';
async function lockprobe(): Promise<string> {
  if (probeBin) return probeBin;
  const dir = fs.mkdtempSync('/tmp/glujs-lockprobe-');
  onProcessExit(() => fs.rmSync(dir, { recursive: true, force: true }));
  const bin = path.join(dir, 'lockprobe');
  const cc = await run('cc', ['-O1', '-g', '-Wall', '-o', bin, path.join(ROOT, 'test', 'locks', 'lockprobe.c')], 60_000);
  assert.equal(cc.code, 0, `cc lockprobe.c: ${cc.err}`);
  return (probeBin = bin);
}

/** A lockprobe process: one command, one answer line. */
class Locker {
  private buf = '';
  private waiters: Array<(line: string) => void> = [];
  private constructor(private p: ChildProcessWithoutNullStreams) {
    p.stdout.setEncoding('utf8');
    p.stdout.on('data', (d: string) => {
      this.buf += d;
      for (let i; (i = this.buf.indexOf('\n')) >= 0;) {
        const line = this.buf.slice(0, i);
        this.buf = this.buf.slice(i + 1);
        this.waiters.shift()?.(line);
      }
    });
    p.on('exit', () => { for (const w of this.waiters.splice(0)) w('exited'); });
  }
  static async start(t: test.TestContext): Promise<Locker> {
    const l = new Locker(spawn(await lockprobe(), [], { stdio: 'pipe' }));
    t.after(() => l.kill());
    return l;
  }
  get pid(): number { return this.p.pid!; }
  /** Sends a command; resolves to its answer ('timeout' after ms). */
  cmd(line: string, ms = 15_000): Promise<string> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => { this.waiters = this.waiters.filter((w) => w !== done); resolve('timeout'); }, ms);
      const done = (l: string) => { clearTimeout(timer); resolve(l); };
      this.waiters.push(done);
      this.p.stdin.write(line + '\n');
    });
  }
  kill(): void { if (this.p.exitCode === null) this.p.kill('SIGKILL'); }
}

const passthrough = () => glujs('js-brick', fixture('await-all.ts'));

/** A brick with glujs above locks and upcall, and two FUSE mounts (clients). */
const twoClients = (t: test.TestContext, brick = [passthrough()]) =>
  withVolume(t, { brick, upcall: true, mounts: 2 });

async function exclusiveLocks(t: test.TestContext, mounts: string[]) {
  const [a, b] = [await Locker.start(t), await Locker.start(t)];
  const f = 'locked.dat';
  assert.equal(await a.cmd(`open ${path.join(mounts[0], f)}`), 'ok');
  assert.equal(await b.cmd(`open ${path.join(mounts[1], f)}`), 'ok');
  assert.equal(await a.cmd('wlock 0 0'), 'ok', 'client 0 takes a write lock on the whole file');
  assert.equal(await b.cmd('wlock 0 0'), 'EAGAIN', 'client 1 must not get a write lock on a file client 0 holds');
  assert.equal(await b.cmd('rlock 0 100'), 'EAGAIN', 'nor a read lock on part of it');
  assert.match(await b.cmd('test 0 0'), /^held pid=/, 'F_GETLK on client 1 reports the holder');
  // a lock on a range client 0 does not hold is free
  assert.equal(await a.cmd('unlock 100 0'), 'ok');
  assert.equal(await b.cmd('wlock 100 50'), 'ok', 'the range client 0 released is free');
  assert.equal(await a.cmd('wlock 100 10'), 'EAGAIN', 'and is now exclusive to client 1');
  // a blocked F_SETLKW is granted when the holder unlocks
  const waiting = b.cmd('wlockw 0 10');
  await sleep(300);
  assert.equal(await a.cmd('unlock 0 0'), 'ok');
  assert.equal(await waiting, 'ok', 'client 1\'s waiting lock is granted once client 0 unlocks');
}

test('brick: POSIX locks are exclusive between two clients with no glujs (the reference)', async (t) => {
  await exclusiveLocks(t, (await withVolume(t, { upcall: true, mounts: 2 })).mounts);
});

test('brick: POSIX locks stay exclusive between two clients with a glujs pass-through above locks', async (t) => {
  const v = await twoClients(t);
  await exclusiveLocks(t, v.mounts);
  assert.match(v.log('brick'), /0-js-brick: loaded translator module .*await-all\.ts/);
  await sleep(1100); // the runtime publishes its counters once a second
  const dump = await v.statedump('brick');
  const handled = Number(/js\.handled=(\d+)/.exec(dump)?.[1] ?? 0);
  assert.ok(handled > 10, `the locks went through JS on the brick (js.handled=${handled})`);
});

test('brick: a dead client\'s POSIX locks are freed, with glujs above locks', async (t) => {
  const v = await twoClients(t);
  const [a, b] = [await Locker.start(t), await Locker.start(t)];
  assert.equal(await a.cmd(`open ${path.join(v.mounts[0], 'f')}`), 'ok');
  assert.equal(await b.cmd(`open ${path.join(v.mounts[1], 'f')}`), 'ok');
  assert.equal(await a.cmd('wlock 0 0'), 'ok');
  assert.equal(await b.cmd('wlock 0 0'), 'EAGAIN');
  // client 0's glusterfs dies without unlocking: the brick sees the disconnect
  process.kill(v.clientPids[0], 'SIGKILL');
  a.kill();
  let got = '';
  for (const end = Date.now() + 20_000; Date.now() < end && got !== 'ok'; await sleep(200)) got = await b.cmd('wlock 0 0');
  assert.equal(got, 'ok', 'client 1 gets the lock once client 0 is gone (within 20 s)');
});

/** A lookup of `inodelk` or `entrylk` on a mount with test/fixtures/locker.ts: its errno ('ENOENT': granted). */
const tryLock = (mount: string, which: 'inodelk' | 'entrylk') => errCode(() => fs.statSync(path.join(mount, which)));

test('brick: inodelk and entrylk stay exclusive between two clients with glujs above locks; a dead client\'s are freed', async (t) => {
  // Both clients' locker.ts originate the lock with the same lock owner, so
  // only the client identity that glujs's brick translator carries tells them apart.
  const v = await withVolume(t, {
    brick: [passthrough()], upcall: true, mounts: 2, client: [glujs('js-locker', fixture('locker.ts'))],
  });
  fs.writeFileSync(path.join(v.mounts[0], 'target'), 'x');
  for (const which of ['inodelk', 'entrylk'] as const) {
    assert.equal(tryLock(v.mounts[0], which), 'ENOENT', `client 0 gets the ${which}`);
    assert.equal(tryLock(v.mounts[1], which), 'EAGAIN', `client 1 must not get the ${which} client 0 holds`);
  }
  process.kill(v.clientPids[0], 'SIGKILL');
  let got = '';
  for (const end = Date.now() + 20_000; Date.now() < end && got !== 'ENOENT'; await sleep(200)) got = tryLock(v.mounts[1], 'inodelk');
  assert.equal(got, 'ENOENT', 'client 1 gets the inodelk once client 0 is gone (within 20 s)');
  assert.equal(tryLock(v.mounts[1], 'entrylk'), 'ENOENT', 'and the entrylk');
});

test('originated fops obey handler-timeout (ETIMEDOUT), and one in flight does not stop the daemon\'s exit', async (t) => {
  const v = await withVolume(t, {
    upcall: true, mounts: 2, client: [glujs('js-locker', fixture('locker.ts'), { 'handler-timeout': 2 })],
  });
  fs.writeFileSync(path.join(v.mounts[0], 'target'), 'x');
  assert.equal(tryLock(v.mounts[0], 'inodelk'), 'ENOENT', 'client 0 holds the lock');
  const t0 = Date.now();
  const r = await run('stat', [path.join(v.mounts[1], 'inodelkw')], 30_000);
  const took = Date.now() - t0;
  assert.match(r.err, /Connection timed out/, `a blocking inodelk the brick never grants times out: ${r.err}`);
  assert.ok(took >= 1500 && took < 15_000, `after handler-timeout (2 s), not ${took} ms`);
  assert.match(v.log(1), /inodelk originated by JS to client failed with Connection timed out: no reply from the child within handler-timeout/);
  // another one waits on the brick when client 1 is stopped (SIGTERM): its
  // environment stops with the fop in flight, and the daemon exits cleanly
  const waiting = run('stat', [path.join(v.mounts[1], 'inodelkw')], 30_000);
  await sleep(500);
  process.kill(v.clientPids[1], 'SIGTERM');
  await waiting;
  await until(() => !fs.existsSync(`/proc/${v.clientPids[1]}`) || /State:\s+Z/.test(fs.readFileSync(`/proc/${v.clientPids[1]}/status`, 'utf8')), 10_000, 'client 1 to exit');
  assert.doesNotMatch(v.log(1), /signal received|AddressSanitizer/, 'no crash on the way out');
});

test('an originated fop in flight when its environment is replaced (hot reload) completes, and the old one is freed', async (t) => {
  const dir = fs.mkdtempSync('/tmp/glujs-reload-origin-');
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const mod = path.join(dir, 'locker.ts');
  fs.copyFileSync(fixture('locker.ts'), mod);
  const v = await withVolume(t, {
    upcall: true, mounts: 2, client: [glujs('js-locker', mod, { 'handler-timeout': 4, watch: 'on' })],
  });
  fs.writeFileSync(path.join(v.mounts[0], 'target'), 'x');
  assert.equal(tryLock(v.mounts[0], 'inodelk'), 'ENOENT', 'client 0 holds the lock');
  const before = fs.readdirSync(`/proc/${v.clientPids[1]}/task`).length;
  // client 1's blocking inodelk waits on the brick; its module is replaced meanwhile
  const waiting = run('stat', [path.join(v.mounts[1], 'inodelkw')], 30_000);
  await sleep(500);
  fs.appendFileSync(mod, '\n// v2\n');
  await until(() => /reloaded translator module/.test(v.log(1)), 10_000, 'client 1 to reload');
  const r = await waiting;
  assert.match(r.err, /Connection timed out/, `the fop in flight completes (handler-timeout): ${r.err}`);
  assert.equal(tryLock(v.mounts[1], 'entrylk'), 'ENOENT', 'the new environment serves and originates');
  // the old environment is freed once its fop is through: its threads go
  const threads = () => fs.readdirSync(`/proc/${v.clientPids[1]}/task`).length;
  await until(() => threads() <= before + 2, 15_000, `client 1's threads back near ${before} (now ${threads()})`);
  assert.doesNotMatch(v.log(1), /signal received|pending frames:/);
});

test('brick: GlusterFS\'s own nl-cache on another client sees creates, with glujs above upcall', async (t) => {
  const v = await withVolume(t, {
    brick: [passthrough()], upcall: true, mounts: 2,
    client: [{ name: 'nl-cache', type: 'performance/nl-cache', options: { 'nl-cache-timeout': 600 } }],
  });
  const [m0, m1] = v.mounts;
  fs.mkdirSync(path.join(m0, 'd'));
  let stale = 0;
  for (let i = 0; i < 5; i++) {
    const p0 = path.join(m0, 'd', `f${i}`);
    assert.equal(errCode(() => fs.statSync(p0)), 'ENOENT');
    assert.equal(errCode(() => fs.statSync(p0)), 'ENOENT'); // now cached by nl-cache on client 0
    fs.writeFileSync(path.join(m1, 'd', `f${i}`), 'x');
    const seen = await until(() => errCode(() => fs.statSync(p0)) === 'ok', 2000, p0).then(() => true, () => false);
    if (!seen) stale++;
  }
  assert.equal(stale, 0, `${stale} of 5 names created by client 1 stayed hidden on client 0 (upcall lost on the brick)`);
});

/** The xlator under test's user.xlator.* name (the ASan run installs user/glujs-asan). */
const UX = GLUJS_TYPE.replace(/^.*\//, '');
/** The bricks' copies of a file: content and gfid. */
const onBricks = (bricks: string[], rel: string) => bricks.map((b) => {
  const p = path.join(b, rel);
  return { data: fs.readFileSync(p).toString('hex'), gfid: execFileSync('getfattr', ['-e', 'hex', '-n', 'trusted.gfid', '--only-values', p]).toString('hex') };
});

test('glusterd replica 2 with glujs on both bricks: POSIX locks, AFR\'s entry and inode locks, upcall', async (t) => {
  const gd = await startGlusterd();
  t.after(() => gd.stop());
  const vol = await gd.createVolume('gjlk', { replica: 2 });
  await vol.set(`user.xlator.${UX}.module`, fixture('await-all.ts'));
  await vol.set(`user.xlator.${UX}`, 'io-threads');
  for (const [k, val] of [['features.cache-invalidation', 'on'], ['performance.cache-invalidation', 'on'],
    ['performance.md-cache-timeout', '600'], ['cluster.self-heal-daemon', 'off']]) await vol.set(k, val);
  await vol.restart();
  const m0 = await vol.mount(['--attribute-timeout=0', '--entry-timeout=0']);
  const m1 = await vol.mount(['--attribute-timeout=0', '--entry-timeout=0']);
  assert.match(vol.brickLog(), /loaded translator module .*await-all\.ts/);

  await exclusiveLocks(t, [m0.dir, m1.dir]);

  // AFR serializes creates of one name with entrylk on the parent: two clients
  // racing O_EXCL creates of the same names get exactly one winner per name, and
  // both bricks hold it with one gfid.
  fs.mkdirSync(path.join(m0.dir, 'race'));
  const N = 40;
  const create = (dir: string, i: number) => fs.promises.open(path.join(dir, 'race', `n${i}`), 'wx').then(
    async (fh) => { await fh.close(); return 'won'; }, (e: NodeJS.ErrnoException) => e.code ?? String(e));
  const results = await Promise.all(Array.from({ length: N }, (_, i) => Promise.all([create(m0.dir, i), create(m1.dir, i)])));
  for (const [i, r] of results.entries()) {
    assert.deepEqual([...r].sort(), ['EEXIST', 'won'], `n${i}: one client creates it, the other gets EEXIST (got ${r})`);
    const [b0, b1] = onBricks(vol.brickDirs, `race/n${i}`);
    assert.equal(b0.gfid, b1.gfid, `n${i} has one gfid on both bricks`);
  }

  // AFR writes under an inodelk: two clients overwriting the same region at once
  // leave the two bricks identical.
  const f = 'shared.dat';
  fs.writeFileSync(path.join(m0.dir, f), Buffer.alloc(128 << 10));
  const writer = async (dir: string, byte: number) => {
    const fh = await fs.promises.open(path.join(dir, f), 'r+');
    try { for (let k = 0; k < 30; k++) await fh.write(Buffer.alloc(128 << 10, byte + k), 0, 128 << 10, 0); } finally { await fh.close(); }
  };
  await Promise.all([writer(m0.dir, 0x10), writer(m1.dir, 0x80)]);
  const [w0, w1] = onBricks(vol.brickDirs, f);
  assert.equal(w0.gfid, w1.gfid);
  assert.ok(w0.data === w1.data, 'both bricks hold the same bytes after concurrent overlapping writes');

  // upcall: client 0's md-cache (timeout 600 s) learns of client 1's chmod at once
  const p = (m: { dir: string }) => path.join(m.dir, 'race', 'n0');
  fs.chmodSync(p(m0), 0o600);
  assert.equal(fs.statSync(p(m0)).mode & 0o777, 0o600);
  fs.chmodSync(p(m1), 0o640);
  const seen = await until(() => (fs.statSync(p(m0)).mode & 0o777) === 0o640, 2000, 'the chmod').then(() => true, () => false);
  assert.ok(seen, "client 0 sees client 1's chmod (md-cache invalidated by upcall through the glujs bricks)");
});

/** A stat that resolves to its errno name ('ok'), or 'pending' if it has not completed within ms. */
const statWithin = (p: string, ms: number) => Promise.race([
  fs.promises.stat(p).then(() => 'ok', (e: NodeJS.ErrnoException) => e.code ?? String(e)),
  sleep(ms).then(() => 'pending'),
]);

test('handler-timeout reconfigured on a running brick applies to the fops already waiting', async (t) => {
  const gd = await startGlusterd();
  t.after(() => gd.stop());
  const vol = await gd.createVolume('gjto');
  await vol.set(`user.xlator.${UX}.module`, fixture('hang.ts'));
  await vol.set(`user.xlator.${UX}.handler-timeout`, '0');
  await vol.set(`user.xlator.${UX}`, 'io-threads');
  await vol.restart();
  const m = await vol.mount();
  fs.mkdirSync(path.join(m.dir, 'd'));

  // 0 at start (no timeout), then 2 s: a lookup already waiting for 1.5 s fails
  const first = statWithin(path.join(m.dir, 'd', 'hang-1'), 15_000);
  await sleep(1500);
  await vol.set(`user.xlator.${UX}.handler-timeout`, '2');
  const t1 = Date.now();
  assert.notEqual(await first, 'pending', 'the lookup that arrived under handler-timeout 0 times out once it is 2');
  assert.ok(Date.now() - t1 < 5000, `it failed ${Date.now() - t1} ms after the reconfigure`);
  await until(() => /no answer from the JS handler within handler-timeout \(2000 ms\)/.test(vol.brickLog()), 5000, 'the 2000 ms log line');

  // 100 s, then shortened to 1 s: a lookup waiting under the long timeout expires on the short one
  await vol.set(`user.xlator.${UX}.handler-timeout`, '100');
  const second = statWithin(path.join(m.dir, 'd', 'hang-2'), 15_000);
  await sleep(1500);
  await vol.set(`user.xlator.${UX}.handler-timeout`, '1');
  const t2 = Date.now();
  assert.notEqual(await second, 'pending', 'the lookup that arrived under handler-timeout 100 times out once it is 1');
  assert.ok(Date.now() - t2 < 4000, `it failed ${Date.now() - t2} ms after the reconfigure`);
  await until(() => /no answer from the JS handler within handler-timeout \(1000 ms\)/.test(vol.brickLog()), 5000, 'the 1000 ms log line');
  // other names are untouched by all this
  fs.writeFileSync(path.join(m.dir, 'd', 'fine'), 'x');
  assert.equal(fs.readFileSync(path.join(m.dir, 'd', 'fine'), 'utf8'), 'x');
  assert.doesNotMatch(vol.brickLog(), /reloaded translator module/, 'a handler-timeout change does not reload the module');
});
