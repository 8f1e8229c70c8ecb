// A slow async handler under a flood of fops: at most max-pending wait for JS,
// the rest fail at once with EAGAIN; fops without a handler never wait.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { withVolume } from '../lib/testing';
import { fixture, glujs } from './util';

/** `stat` in its own process (many at once, unlike libuv's 4-thread pool); resolves to its stderr. */
const statProc = (p: string) => new Promise<{ code: number | null; err: string; ms: number }>((resolve) => {
  const t0 = Date.now();
  const c = spawn('stat', [p], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  c.stderr.on('data', (d) => (err += d));
  c.on('close', (code) => resolve({ code, err, ms: Date.now() - t0 }));
});

test('backpressure: beyond max-pending fops fail at once with EAGAIN; others never wait', async (t) => {
  const v = await withVolume(t, { client: [glujs('slow', fixture('slow.ts'), { ms: 1500, 'max-pending': 4 })] });
  // one directory each: FUSE serializes lookups within a directory
  for (let i = 0; i < 24; i++) fs.mkdirSync(path.join(v.mount, `d${i}`));
  const fd = fs.openSync(path.join(v.mount, 'quick'), 'w');
  const flood = Array.from({ length: 24 }, (_, i) => statProc(path.join(v.mount, `d${i}`, `slow${i}`)));
  await new Promise((r) => setTimeout(r, 300));
  // meanwhile fops with no JS handler (writev, fstat) are not held up by the queue
  const t0 = Date.now();
  fs.writeSync(fd, 'x');
  fs.fstatSync(fd);
  const quickMs = Date.now() - t0;
  fs.closeSync(fd);
  const results = await Promise.all(flood);
  const busy = results.filter((r) => /Resource temporarily unavailable/.test(r.err));
  const waited = results.filter((r) => /No such file/.test(r.err));
  assert.equal(busy.length + waited.length, results.length, results.map((r) => r.err).join(''));
  assert.ok(waited.length >= 4 && waited.length < results.length, `${waited.length} waited, ${busy.length} refused`);
  assert.ok(busy.every((r) => r.ms < 1000), 'refused ones fail at once');
  assert.ok(quickMs < 1000, `a fop without a handler took ${quickMs} ms`);
  const dump = await v.statedump(0);
  assert.match(dump, /refused_busy=([1-9]\d*)/);
  assert.match(v.log(0), /0-slow: lookup failed with EAGAIN: \d+ fops already wait for JS \(max-pending\)/);
});
