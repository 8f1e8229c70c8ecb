// The tear-down both harnesses share (lib/testing/teardown.ts), on stand-in daemons:
// node processes that write their pid file and name it on their command line, as
// glusterfs and glusterfsd do. No GlusterFS and no mounts.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { running, stopDaemons, teardown, type Daemon } from '../lib/testing/teardown';
import { until } from './util';

/** A stand-in daemon: `leave` exits by itself after 300 ms, `stubborn` ignores SIGTERM. */
async function daemon(dir: string, name: string, mode: 'stay' | 'leave' | 'stubborn' = 'stay'): Promise<Daemon> {
  const pidFile = path.join(dir, `${name}.pid`);
  const code = `require('fs').writeFileSync(process.argv[1], String(process.pid));
    if (process.argv[2] === 'stubborn') process.on('SIGTERM', () => {});
    if (process.argv[2] === 'leave') setTimeout(() => process.exit(0), 300);
    setInterval(() => {}, 1000);`;
  spawn(process.execPath, ['-e', code, pidFile, mode], { stdio: 'ignore', detached: true }).unref();
  const d: Daemon = { pidFile, pid: 0 };
  await until(() => running(d), 5000, `${name} to start`);
  return d;
}
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'glujs-teardown-'));

test('one escalation: a grace to leave, then SIGTERM, then SIGKILL said aloud', async () => {
  const dir = tmp();
  try {
    const leaving = await daemon(dir, 'leaving', 'leave');
    let t = Date.now();
    await stopDaemons([leaving], 2000);
    assert.ok(!running(leaving) && Date.now() - t < 1500, 'left by itself within its grace');

    const polite = await daemon(dir, 'polite');
    t = Date.now();
    await stopDaemons([polite]);
    assert.ok(!running(polite) && Date.now() - t < 1500, 'SIGTERM at once without a grace');

    const stubborn = await daemon(dir, 'stubborn', 'stubborn');
    const writes: string[] = [];
    const write = process.stderr.write;
    process.stderr.write = ((s: string) => (writes.push(String(s)), true)) as typeof process.stderr.write;
    t = Date.now();
    try { await stopDaemons([stubborn]); } finally { process.stderr.write = write; }
    assert.ok(!running(stubborn), 'killed');
    assert.ok(Date.now() - t >= 5000, 'SIGKILL only 5 s after SIGTERM');
    assert.match(writes.join(''), new RegExp(`pid ${stubborn.pid} \\(.*stubborn\\.pid\\) did not exit within 5 s of SIGTERM; sending SIGKILL`));

    // a pid that is not ours (another process's, or none) is never signalled
    const other: Daemon = { pidFile: path.join(dir, 'other.pid'), pid: process.pid };
    assert.equal(running(other), false);
    await stopDaemons([other, { pidFile: path.join(dir, 'none.pid'), pid: 0 }]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('teardown: clients, settle, servers in order, then files and the directory (or keep it)', async () => {
  const dir = tmp(), outside = tmp();
  try {
    const client = await daemon(dir, 'client', 'leave'), a = await daemon(dir, 'a'), b = await daemon(dir, 'b');
    const file = path.join(outside, 'options');
    fs.writeFileSync(file, '');
    const order: string[] = [];
    await teardown({
      dir, mounts: () => [], clients: () => [client], servers: () => [a, b], files: () => [file],
      settle: async () => { order.push(`settle: client ${running(client) ? 'runs' : 'gone'}, a ${running(a) ? 'runs' : 'gone'}`); },
      cleanup: () => order.push(`cleanup: b ${running(b) ? 'runs' : 'gone'}, file ${fs.existsSync(file) ? 'there' : 'gone'}`),
    });
    assert.deepEqual(order, ['settle: client gone, a runs', 'cleanup: b gone, file gone']);
    assert.equal(fs.existsSync(dir), false);

    const kept = tmp();
    await teardown({ dir: kept, mounts: () => [], clients: () => [], servers: () => [], files: () => [] }, true);
    assert.equal(fs.existsSync(kept), true, 'kept');
    fs.rmSync(kept, { recursive: true, force: true });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(outside, { recursive: true, force: true });
  }
});

test('a process that ends without stop() still tears down what it tracked (exit and SIGTERM)', async () => {
  for (const how of ['exit', 'SIGTERM'] as const) {
    const dir = tmp();
    try {
      const d = await daemon(dir, 'brick');
      const script = `const { track } = require(${JSON.stringify(path.join(__dirname, '..', 'lib', 'testing', 'teardown.js'))});
        track({ dir: ${JSON.stringify(dir)}, mounts: () => [], clients: () => [], servers: () => [${JSON.stringify(d)}], files: () => [] });
        ${how === 'exit' ? '' : `process.kill(process.pid, 'SIGTERM'); setInterval(() => {}, 1000);`}`;
      const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 20000 });
      assert.equal(r.error, undefined);
      if (how === 'SIGTERM') assert.equal(r.signal, 'SIGTERM', 'the signal is re-raised after the tear-down');
      assert.equal(running(d), false, `${how}: the daemon is stopped`);
      assert.equal(fs.existsSync(dir), false, `${how}: the directory is removed`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
});
