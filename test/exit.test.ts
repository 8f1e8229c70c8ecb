// The daemon exits cleanly (SIGTERM) in every state of an environment's life:
// starting (init() at mount time), running (faults.test: "stop while
// restarting" and restart.test cover running and restarting), reloading (the
// new environment's init() during a hot reload) and stopping (fini() during
// an unmount). Clean: the process is gone within 15 s and its log shows no
// crash (no "signal received" other than 15, no "pending frames").
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startVolume, withVolume, VolumeStartError } from '../lib/testing';
import { run } from '../lib/testing/proc';
import { alive, fixture, glujs, sleep, until } from './util';

const CRASH = /signal received: (?!15\b)\d+|pending frames:|AddressSanitizer/;

async function gone(pid: number, ms = 15_000): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(50)) if (!alive(pid)) return true;
  return false;
}

test('exit while starting: SIGTERM during init() at mount time', async (t) => {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'glujs-exit-'));
  t.after(() => fs.rmSync(base, { recursive: true, force: true }));
  const starting = startVolume({ dir: base, client: [glujs('js-slow', fixture('slow-hooks.ts'), { 'init-ms': 8000 })] });
  // the client's pid file and the log line that says init() runs
  const { pid, log } = await until(() => {
    for (const d of fs.readdirSync(base)) {
      const log = path.join(base, d, 'client0.log'), pidFile = path.join(base, d, 'client0.pid');
      if (fs.existsSync(pidFile) && fs.existsSync(log) && /slow-hooks init starts/.test(fs.readFileSync(log, 'utf8')))
        return { pid: Number(fs.readFileSync(pidFile, 'utf8')), log };
    }
    return undefined;
  }, 20_000, 'init() to start');
  process.kill(pid, 'SIGTERM');
  const err = await starting.then(() => undefined, (e: unknown) => e);
  assert.ok(err instanceof VolumeStartError, `the mount must not come up: ${String(err)}`);
  assert.ok(await gone(pid), 'the daemon exits while its environment starts');
  assert.doesNotMatch(err.clientLog || fs.readFileSync(log, 'utf8'), CRASH);
});

test('exit while reloading: SIGTERM during the new environment\'s init() (hot reload)', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'glujs-exit-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const mod = path.join(dir, 'mod.ts');
  fs.copyFileSync(fixture('slow-hooks.ts'), mod);
  const v = await withVolume(t, { client: [glujs('js-slow', mod, { watch: 'on' })] });
  const pid = v.clientPids[0];
  // the new version's init() waits 8 s: the old instance still serves meanwhile
  fs.writeFileSync(mod, fs.readFileSync(mod, 'utf8').replace("default: 0 }, 'fini-ms'", "default: 8000 }, 'fini-ms'"));
  await until(() => (v.log(0).match(/slow-hooks init starts/g) ?? []).length >= 2, 10_000, 'the reload\'s init() to start');
  assert.equal((await run('stat', [v.mount], 5000)).code, 0, 'the mount serves during the reload');
  process.kill(pid, 'SIGTERM');
  assert.ok(await gone(pid), 'the daemon exits while an environment reloads');
  assert.doesNotMatch(v.log(0), CRASH);
});

test('exit while stopping: SIGTERM during fini() of an unmount', async (t) => {
  const v = await withVolume(t, { client: [glujs('js-slow', fixture('slow-hooks.ts'), { 'fini-ms': 8000 })] });
  const pid = v.clientPids[0];
  const umount = run('umount', [v.mount], 20_000);
  await until(() => /slow-hooks fini starts/.test(v.log(0)), 10_000, 'fini() to start');
  process.kill(pid, 'SIGTERM');
  assert.ok(await gone(pid), 'the daemon exits while its environment stops');
  await umount;
  assert.doesNotMatch(v.log(0), CRASH);
});
