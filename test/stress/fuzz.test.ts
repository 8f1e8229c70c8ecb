// Fuzzes the bridge through a real mount: test/fixtures/fuzz.ts answers fops
// with random, often malformed values (wrong types, missing fields, huge Buffers
// and strings, deep and cyclic objects, BigInt, NaN, -0, throwing getters and
// Proxies, prototype tricks, bad dirent arrays) as replies, wind and forward
// overrides, errnos and throws. Every fop must complete with a defined errno, no
// fop may hang, and the daemon must live and keep serving.
// GLUJS_FUZZ_CASES (default 2000; test:stress and the full run: 100000) and
// GLUJS_FUZZ_SEED replay a run; the seed is printed and is in every failure.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { withVolume } from '../../lib/testing';
import { alive, fixture, glujs, grep, sleep } from '../util';

const fsp = fs.promises;
const CASES = Number(process.env.GLUJS_FUZZ_CASES ?? (process.env.GLUJS_STRESS === 'full' ? 100_000 : 2000));
const SEED = Number(process.env.GLUJS_FUZZ_SEED ?? (Date.now() % 1_000_000));
const WORKERS = Number(process.env.GLUJS_FUZZ_WORKERS ?? 8);
const HANDLER_TIMEOUT_S = 5;
const HUNG_MS = HANDLER_TIMEOUT_S * 1000 + 5000;

/** errno name of an fs call, 'ok', or 'HUNG'. */
async function code(p: () => Promise<unknown>): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<string>((r) => { timer = setTimeout(() => r('HUNG'), HUNG_MS); });
  const done = p().then(() => 'ok', (e: NodeJS.ErrnoException) => e?.code ?? `non-errno: ${String(e)}`);
  try { return await Promise.race([done, hung]); } finally { clearTimeout(timer); }
}

/** One case: a short sequence of fs calls that carries the trigger; the steps' results. */
async function runCase(dir: string, c: number): Promise<string[]> {
  const z = path.join(dir, `z-${c}`), zf = path.join(dir, `zf-${c}`);
  switch (c % 8) {
    case 0: return [await code(() => fsp.access(z))];
    case 1: return [await code(async () => (await fsp.open(z, 'wx')).close())];
    case 2: return [await code(() => fsp.mkdir(z))];
    case 3: return [await code(() => fsp.symlink('target', z)), await code(() => fsp.unlink(z))];
    case 4: {
      // fd fops on a file whose gfid the fixture learnt: open, writev, fstat, ftruncate, fsync, flush, readv
      const r: string[] = [];
      let fh: fs.promises.FileHandle | undefined;
      r.push(await code(async () => { fh = await fsp.open(zf, 'w+'); }));
      if (fh) {
        const h = fh;
        r.push(await code(() => h.write(Buffer.from(`case ${c}`), 0, undefined, 0)));
        r.push(await code(() => h.stat()));
        r.push(await code(() => h.truncate(3)));
        r.push(await code(() => h.sync()));
        r.push(await code(() => h.read(Buffer.alloc(16), 0, 16, 0)));
        r.push(await code(() => h.close()));
      }
      return r;
    }
    case 5: return [await code(() => fsp.mkdir(zf)), await code(() => fsp.readdir(zf)), await code(() => fsp.readdir(zf, { withFileTypes: true }))];
    case 6: return [await code(() => fsp.writeFile(zf, 'x')), await code(() => fsp.truncate(zf, 0)), await code(() => fsp.chmod(zf, 0o600)), await code(() => fsp.utimes(zf, 1, 2))];
    default: return [await code(() => fsp.writeFile(zf, 'y')), await code(() => fsp.readFile(zf)), await code(() => fsp.rename(zf, `${zf}-r`))];
  }
}

test(`fuzz: ${CASES} seeded cases of malformed values through the bridge (seed ${SEED})`, async (t) => {
  t.diagnostic(`GLUJS_FUZZ_SEED=${SEED} GLUJS_FUZZ_CASES=${CASES} replays this run`);
  const v = await withVolume(t, { client: [glujs('fz', fixture('fuzz.ts'), { seed: SEED, trace: process.env.GLUJS_FUZZ_TRACE === '1' ? 'on' : 'off', 'handler-timeout': HANDLER_TIMEOUT_S, watchdog: 5 })] });
  const pid = v.clientPids[0];
  const dirs = Array.from({ length: WORKERS }, (_, w) => path.join(v.mount, `w${w}`));
  for (const d of dirs) fs.mkdirSync(d);
  const results = new Map<string, number>();
  const bad: string[] = [];
  let next = 0, steps = 0;
  const t0 = Date.now();
  await Promise.all(dirs.map(async (d) => {
    for (let c; (c = next++) < CASES && bad.length < 20;) {
      for (const r of await runCase(d, c)) {
        steps++;
        results.set(r, (results.get(r) ?? 0) + 1);
        if (r === 'HUNG' || !/^(ok|E[A-Z0-9]+|Unknown system error -\d+)$/.test(r)) bad.push(`case ${c} (${path.basename(d)}): ${r}`);
      }
      if (c % 500 === 499 && !alive(pid)) bad.push(`the daemon died by case ${c}`);
    }
  }));
  const secs = (Date.now() - t0) / 1000;
  const summary = [...results.entries()].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(', ');
  t.diagnostic(`${CASES} cases, ${steps} fs calls in ${secs.toFixed(1)} s: ${summary}`);
  const log = v.log(0);
  const crash = grep(log, /signal received|pending frames:|AddressSanitizer/);
  await sleep(1100); // the runtime publishes its counters once a second
  const dump = await v.statedump(0);
  const fuzzed = Number(/js\.cases=(\d+)/.exec(dump)?.[1] ?? 0);
  const toJs = Number(/^fops_to_js=(\d+)/m.exec(dump)?.[1] ?? 0);
  t.diagnostic(`fops to JS: ${toJs}; fuzzed (js.cases, since the last restart): ${fuzzed}; restarts: ${grep(log, 'restarting the JS environment').length}`);
  const context = `seed ${SEED} (GLUJS_FUZZ_SEED=${SEED} GLUJS_FUZZ_CASES=${CASES} replays it)`;
  assert.deepEqual(crash, [], `the daemon crashed: ${context}`);
  assert.ok(alive(pid), `the daemon died: ${context}`);
  // what the translator originates reaches the brick: that must not crash either
  assert.deepEqual(grep(v.log('brick'), /signal received|pending frames:|AddressSanitizer/), [], `the brick crashed: ${context}`);
  assert.ok(alive(v.brickPid), `the brick died: ${context}`);
  assert.deepEqual(bad, [], `fops without a defined errno, or hung: ${context}`);
  assert.ok(toJs >= CASES && fuzzed > 0, `only ${toJs} fops reached JS (${fuzzed} fuzzed) for ${CASES} cases (${context})`);
  // and it still serves, with untouched names
  await sleep(100);
  fs.writeFileSync(path.join(v.mount, 'after.txt'), 'still here');
  assert.equal(fs.readFileSync(path.join(v.mount, 'after.txt'), 'utf8'), 'still here');
  assert.equal(fs.readFileSync(path.join(v.brickDir, 'after.txt'), 'utf8'), 'still here');
});
