import test from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { startVolume, tryStartVolume, withVolume } from '../lib/testing';

const mounted = (dir: string) => fs.readFileSync('/proc/mounts', 'utf8').split('\n').some((l) => l.split(' ')[1] === dir);
/** alive and not a zombie */
const alive = (pid: number) => {
  try { return !/^\d+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8')); } catch { return false; }
};

test('plain volume: I/O, two mounts, statedump, teardown', async () => {
  const v = await startVolume({ mounts: 2 });
  try {
    assert.equal(v.mounts.length, 2);
    assert.equal(v.mount, v.mounts[0]);
    for (const m of v.mounts) assert.ok(mounted(m), `${m} in /proc/mounts`);
    assert.ok(alive(v.brickPid) && v.clientPids.every(alive));

    // a file written through the mount lands in the brick directory
    fs.writeFileSync(path.join(v.mount, 'hello.txt'), 'hello gluster\n');
    assert.equal(fs.readFileSync(path.join(v.brickDir, 'hello.txt'), 'utf8'), 'hello gluster\n');

    // the two mounts see each other's files
    fs.mkdirSync(path.join(v.mounts[1], 'd'));
    fs.writeFileSync(path.join(v.mounts[1], 'd', 'from1'), 'one');
    assert.equal(fs.readFileSync(path.join(v.mounts[0], 'd', 'from1'), 'utf8'), 'one');
    assert.equal(fs.readFileSync(path.join(v.mounts[1], 'hello.txt'), 'utf8'), 'hello gluster\n');

    // brick statedump carries per-fop counters: <xlator>.latency.<FOP> (reset by each dump)
    // and io-stats' own io-stats.cumulative.<FOP>=count,total,min,max,avg (never reset)
    const dump = await v.statedump('brick');
    assert.match(dump, /^DUMP-START-TIME/m);
    assert.match(dump, /^io-stats\.latency\.LOOKUP=AVG:\S+ CNT:[1-9]/m);
    assert.match(dump, /^posix\.latency\.CREATE=AVG:\S+ CNT:2 /m);
    assert.match(dump, /^io-stats\.cumulative\.LOOKUP=[1-9]/m);
    assert.match(dump, /DUMP-END-TIME/);
    // a second dump right away (same second) works too; latency counters were reset
    const dump2 = await v.statedump('brick');
    assert.match(dump2, /^io-stats\.cumulative\.CREATE=2,/m);
    assert.doesNotMatch(dump2, /^posix\.latency\.CREATE=/m);
    // clients can be dumped too
    const cdump = await v.statedump(1);
    assert.match(cdump, /^\[client\.latency\]$/m);
    assert.deepEqual(fs.readdirSync(path.join(v.dir, 'dumps')), []);
    assert.ok(!fs.existsSync(`/var/run/gluster/glusterdump.${v.clientPids[1]}.options`));
    assert.match(v.log('brick'), /listen-port/);
    assert.match(v.log(0), /remote-subvolume/);
  } finally {
    await v.stop();
    await v.stop(); // idempotent
  }
  for (const m of v.mounts) assert.ok(!mounted(m), `${m} gone from /proc/mounts`);
  assert.ok(!alive(v.brickPid), 'brick dead');
  for (const pid of v.clientPids) assert.ok(!alive(pid), `client ${pid} dead`);
  assert.ok(!fs.existsSync(v.dir), 'temp dir removed');
});

test('withVolume tears down after the test', async (t) => {
  let saved: { mount: string; pids: number[]; dir: string } | undefined;
  await t.test('inner', async (t2) => {
    const v = await withVolume(t2, { upcall: true, ioStats: false, mountOptions: ['--entry-timeout=0'] });
    saved = { mount: v.mount, pids: [v.brickPid, ...v.clientPids], dir: v.dir };
    fs.writeFileSync(path.join(v.mount, 'x'), 'x');
    assert.ok(fs.existsSync(path.join(v.brickDir, 'x')));
    assert.match(fs.readFileSync(v.serverVolfile, 'utf8'), /type features\/upcall\n\s+option cache-invalidation on/);
  });
  assert.ok(saved);
  assert.ok(!mounted(saved.mount));
  for (const pid of saved.pids) assert.ok(!alive(pid));
  assert.ok(!fs.existsSync(saved.dir));
});

test('a nonexistent client xlator fails cleanly', async () => {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'glujs-fail-'));
  const r = await tryStartVolume({ dir: base, client: [{ name: 'bad', type: 'features/does-not-exist' }] });
  assert.equal(r.ok, false);
  if (r.ok) return;
  assert.match(r.error, /mount 0 .* did not come up/);
  assert.match(r.error, /features\/does-not-exist/);
  assert.match(r.clientLog, /not valid or not found/);
  assert.match(r.brickLog, /listen-port/);
  assert.equal(fs.readFileSync('/proc/mounts', 'utf8').includes(base), false, 'nothing left mounted');
  assert.deepEqual(fs.readdirSync(base), [], 'temp dir removed');
  fs.rmdirSync(base);
});

test('a brick xlator that fails fails cleanly', async () => {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'glujs-fail-'));
  const r = await tryStartVolume({ dir: base, brick: [{ name: 'bad', type: 'features/does-not-exist' }] });
  assert.equal(r.ok, false);
  if (r.ok) return;
  assert.match(r.error, /brick did not come up/);
  assert.match(r.error, /does-not-exist/);
  assert.equal(fs.readFileSync('/proc/mounts', 'utf8').includes(base), false);
  assert.deepEqual(fs.readdirSync(base), []);
  fs.rmdirSync(base);
});

test('duplicate xlator names are rejected', async () => {
  const r = await tryStartVolume({ brick: [{ name: 'locks', type: 'features/locks' }] });
  assert.equal(r.ok, false);
  if (!r.ok) assert.match(r.error, /used twice/);
});

test('a brick xlator whose init fails fails cleanly', async () => {
  const r = await tryStartVolume({ brick: [{ name: 'p2', type: 'storage/posix', options: { directory: '/nonexistent-glujs' } }] });
  assert.equal(r.ok, false);
  if (r.ok) return;
  assert.match(r.error, /brick did not come up/);
  assert.match(r.error, / [EC] \[/);
});

test('a client xlator whose init fails fails cleanly', async () => {
  const r = await tryStartVolume({ client: [{ name: 'p2', type: 'storage/posix', options: { directory: '/nonexistent-glujs' } }] });
  assert.equal(r.ok, false);
  if (r.ok) return;
  assert.match(r.error, /mount 0 .* did not come up/);
  assert.match(r.error, / [EC] \[/);
});

test('proxyPort routes the client through a proxy; stop({keep}) keeps the directory', async () => {
  let proxied = 0;
  let target = 0;
  const sockets = new Set<net.Socket>();
  const proxy = net.createServer((down) => {
    proxied++;
    const up = net.connect(target, '127.0.0.1');
    for (const sock of [down, up]) { sockets.add(sock); sock.on('error', () => sock.destroy()); }
    down.pipe(up).pipe(down);
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  const v = await startVolume({
    proxyPort: (brickPort) => { target = brickPort; return (proxy.address() as net.AddressInfo).port; },
  });
  try {
    // async I/O only: a sync call on the mount would block the loop the proxy runs on (deadlock)
    await fs.promises.writeFile(path.join(v.mount, 'via-proxy'), 'p');
    assert.equal(fs.readFileSync(path.join(v.brickDir, 'via-proxy'), 'utf8'), 'p');
    assert.ok(proxied >= 1);
    assert.match(fs.readFileSync(v.clientVolfile, 'utf8'), new RegExp(`remote-port ${(proxy.address() as net.AddressInfo).port}\n`));
  } finally {
    await v.stop({ keep: true });
    for (const sock of sockets) sock.destroy();
    proxy.close();
  }
  assert.ok(!mounted(v.mount));
  assert.ok(fs.existsSync(v.brickLog), 'kept');
  fs.rmSync(v.dir, { recursive: true, force: true });
});
