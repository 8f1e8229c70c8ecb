// An environment that JS brings down (process.exit here; the watchdog and the
// heap limit take the same path) restarts while the mount keeps serving: fops
// that arrive meanwhile wait for the new environment, in order, bounded by
// handler-timeout. Once the restart budget is spent they fail with ENOTCONN. And
// the daemon exits cleanly whatever state an environment is in.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { withVolume, type Volume } from '../lib/testing';
import { run } from '../lib/testing/proc';
import { alive, fixture, glujs, grep, sleep, until } from './util';

const fsp = fs.promises;
// The exits are triggered with access(2) in a subdirectory: libuv retries a failed
// statx as stat(2), and a name under the root costs two lookups (two exits).
/** errno name of an async fs call ('ok'), or 'HUNG' after ms. */
const code = (p: Promise<unknown>, ms = 15_000) => Promise.race([
  p.then(() => 'ok', (e: NodeJS.ErrnoException) => e.code ?? String(e)), sleep(ms).then(() => 'HUNG')]);
const exitOn = (opts: Record<string, string | number> = {}) =>
  glujs('xo', fixture('exit-on.ts'), { 'handler-timeout': 20, ...opts });
const restarts = (v: Volume) => grep(v.log(0), /0-xo: restarting the JS environment/).length;

test('fops that arrive while the environment restarts wait for it: no ENOTCONN', async (t) => {
  // a slow module load (600 ms) keeps the restart window wide open
  const v = await withVolume(t, { client: [exitOn({ 'load-ms': 600 })] });
  const dirs = ['a', 'b', 'c'].map((d) => path.join(v.mount, d));
  for (const d of [...dirs, path.join(v.mount, 'x')]) fs.mkdirSync(d);
  for (let round = 0; round < 3; round++) {
    assert.equal(await code(fsp.access(path.join(v.mount, 'x', `exit-${round}`))), 'EIO', 'the fop whose handler exits fails');
    // at once, from three directories: creates, writes and lookups, all through JS
    const ops = dirs.flatMap((d) => [0, 1, 2].flatMap((i) => [
      code(fsp.writeFile(path.join(d, `f${round}-${i}`), `r${round}`)),
      code(fsp.stat(path.join(d, `missing${round}-${i}`))),
    ]));
    const got = await Promise.all(ops);
    assert.deepEqual(got, dirs.flatMap(() => [0, 1, 2].flatMap(() => ['ok', 'ENOENT'])), `round ${round}: ${got}`);
    for (const d of dirs) for (const i of [0, 1, 2]) assert.equal(fs.readFileSync(path.join(d, `f${round}-${i}`), 'utf8'), `r${round}`);
  }
  await until(() => restarts(v) >= 3, 5000, 'three restarts logged');
  assert.deepEqual(grep(v.log(0), 'the JS environment is not running'), [], 'no fop was refused during a restart');
});

test('once the restart budget is spent, fops fail with ENOTCONN at once; none hangs', async (t) => {
  const v = await withVolume(t, { client: [exitOn()] });
  for (const d of ['d', 'x']) fs.mkdirSync(path.join(v.mount, d));
  const codes: string[] = [];
  for (let i = 0; i < 6; i++) {
    codes.push(await code(fsp.access(path.join(v.mount, 'x', `exit-${i}`))));
    if (i < 5) assert.equal(await code(fsp.writeFile(path.join(v.mount, 'd', `ok${i}`), 'x')), 'ok', `served after restart ${i + 1}`);
  }
  assert.deepEqual(codes, Array(6).fill('EIO'));
  await until(() => /giving up: fops with handlers now fail with ENOTCONN/.test(v.log(0)), 5000, 'the give-up line');
  const t0 = Date.now();
  assert.equal(await code(fsp.writeFile(path.join(v.mount, 'd', 'after'), 'x')), 'ENOTCONN');
  assert.equal(await code(fsp.stat(path.join(v.mount, 'd', 'nope'))), 'ENOTCONN');
  assert.ok(Date.now() - t0 < 3000, `failed in ${Date.now() - t0} ms`);
  assert.equal(fs.readFileSync(path.join(v.brickDir, 'd', 'ok4'), 'utf8'), 'x', 'what was written before is on the brick');
});

// The daemon stops (SIGTERM, or an unmount) while an environment is restarting,
// and while one runs: it exits, and its log shows no crash.
for (const [how, state] of [['SIGTERM', 'restarting'], ['umount', 'restarting'], ['SIGTERM', 'running'], ['umount', 'running']] as const) {
  test(`the daemon exits cleanly on ${how} while an environment is ${state}`, async (t) => {
    for (let attempt = 0; attempt < 3; attempt++) {
      const v = await withVolume(t, { client: [exitOn({ 'load-ms': 300 })] });
      const pid = v.clientPids[0];
      fs.mkdirSync(path.join(v.mount, 'x'));
      if (state === 'restarting') {
        assert.equal(await code(fsp.access(path.join(v.mount, 'x', `exit-${attempt}`))), 'EIO');
        await sleep(attempt * 40); // early and later in the environment's start
      } else {
        assert.equal(await code(fsp.writeFile(path.join(v.mount, 'f'), 'x')), 'ok');
      }
      if (how === 'SIGTERM') process.kill(pid, 'SIGTERM');
      else assert.equal((await run('umount', [v.mount], 15_000)).code, 0, 'umount');
      await until(() => !alive(pid), 15_000, `glusterfs ${pid} to exit`);
      const log = v.log(0);
      assert.doesNotMatch(log, /signal received: (?!15)\d+/, `the daemon crashed:\n${log.slice(-3000)}`);
      if (state === 'restarting') assert.match(log, /0-xo: restarting the JS environment/);
      await v.stop();
    }
  });
}
