// Soak: a million fops through a JS handler that winds (test/fixtures/passthru.ts),
// as a tight loop of stats of missing names in a subdirectory (each one LOOKUP that
// reaches JS: FUSE's negative-timeout is 0). The client's VmRSS is sampled every
// tenth of the run; after the warm-up (the first tenth) it may grow by 5 MB at most.
// Fast mode: 100k fops, sampled every 10k. GLUJS_STRESS=full: 1M, every 100k.
// Under the sanitizers (npm run test:asan) it runs 10k and does not judge RSS:
// ASan's quarantine keeps freed memory (up to 256 MB), and every malloc takes
// a full stack unwind; LeakSanitizer checks for leaks at the daemon's exit.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { withVolume } from '../../lib/testing';
import { fixture, glujs } from '../util';
import { crashLines, exec, fopCounts, glujsErrors, glujsStats, health, healthLine, hostLine, pick, report, sleep, statusKiB } from './common';

interface Sample { fops: number; ms: number; rssKiB: number; hwmKiB: number; }

/** Child mode: the tight loop runs in its own process so that a hung fop cannot hang the test runner. */
function child(cfg: { dir: string; n: number; every: number; pid: number }): void {
  const names = 50000; // distinct missing names, reused round-robin
  const t0 = Date.now();
  const sample = (fops: number): Sample => ({ fops, ms: Date.now() - t0, rssKiB: statusKiB(cfg.pid), hwmKiB: statusKiB(cfg.pid, 'VmHWM') });
  const out: Sample[] = [sample(0)];
  let found = 0;
  for (let i = 0; i < cfg.n;) {
    const end = Math.min(cfg.n, i + cfg.every);
    for (; i < end; i++) if (fs.statSync(path.join(cfg.dir, `missing-${i % names}`), { throwIfNoEntry: false })) found++;
    out.push(sample(i));
  }
  process.stdout.write(JSON.stringify({ samples: out, found }) + '\n');
}

if (process.env.GLUJS_SOAK_CHILD) {
  child(JSON.parse(process.env.GLUJS_SOAK_CHILD));
} else {
  const SANITIZED = process.env.GLUJS_SANITIZED === '1';
  const N = SANITIZED ? 10_000 : pick(100_000, 1_000_000);
  const EVERY = N / 10;
  const LIMIT_KIB = 5 * 1024;

  test(`soak: ${N} fops through a JS lookup handler that winds; ${SANITIZED ? 'all complete (RSS not judged under ASan)' : 'client RSS growth after warm-up <= 5 MB'}`, { timeout: pick(5, 30) * 60_000 }, async (t) => {
    const v = await withVolume(t, { client: [glujs('pass', fixture('passthru.ts'))] });
    const dir = path.join(v.mount, 'soak');
    fs.mkdirSync(dir);
    const pid = v.clientPids[0];
    const before = await v.statedump(0);
    const lookupsBefore = fopCounts(before, 'pass').lookup ?? 0;

    const env = { ...process.env, GLUJS_SOAK_CHILD: JSON.stringify({ dir, n: N, every: EVERY, pid }) };
    const r = await exec(process.execPath, [__filename], { env, timeoutMs: pick(4, 25) * 60_000 });
    assert.equal(r.code, 0, `the loop failed (signal ${r.signal}, timed out ${r.timedOut}): ${r.err.slice(-2000)}`);
    const { samples, found } = JSON.parse(r.out.trim().split('\n').pop()!) as { samples: Sample[]; found: number };

    await sleep(1100); // glujs publishes its counters every second
    const dump = await v.statedump(0);
    const lookups = (fopCounts(dump, 'pass').lookup ?? 0) - lookupsBefore;
    const h = health(dump, 'pass'), st = glujsStats(dump, 'pass');
    const warm = samples[1], last = samples[samples.length - 1];
    const growth = last.rssKiB - warm.rssKiB;
    const secs = last.ms / 1000;
    const log = v.log(0);

    report(`Soak: ${N.toLocaleString('en-US')} fops through a JS handler`, [
      `- ${new Date().toISOString()}; ${hostLine()}`,
      `- workload: \`fs.statSync\` of missing names in one subdirectory (50,000 distinct names, round-robin), ` +
        `one FUSE LOOKUP each, through \`features/glujs\` with test/fixtures/passthru.ts (every fop winds, then returns the reply)`,
      `- ${N.toLocaleString('en-US')} stats in ${secs.toFixed(1)} s (${Math.round(N / secs).toLocaleString('en-US')} fops/s, ` +
        `${((last.ms * 1000) / N).toFixed(1)} µs each); lookups that reached JS: ${lookups.toLocaleString('en-US')}; names found: ${found}`,
      `- client VmRSS after warm-up (${warm.fops.toLocaleString('en-US')} fops) ${(warm.rssKiB / 1024).toFixed(1)} MB, at the end ` +
        `${(last.rssKiB / 1024).toFixed(1)} MB: growth **${(growth / 1024).toFixed(2)} MB** (limit 5 MB); VmHWM ${(last.hwmKiB / 1024).toFixed(1)} MB`,
      `- glujs after the run: ${healthLine(h)}, JS heap used ${((st.js_heap_used ?? NaN) / 2 ** 20).toFixed(1)} MB of ${((st.js_heap_total ?? NaN) / 2 ** 20).toFixed(1)} MB` +
        (st['fop.lookup.latency_avg_us'] !== undefined ? `, lookup in JS avg ${st['fop.lookup.latency_avg_us']} µs, p99 ≤ ${st['fop.lookup.latency_p99_us']} µs, max ${st['fop.lookup.latency_max_us']} µs` : ''),
      '',
      '| fops | seconds | VmRSS MB | Δ from warm-up MB |',
      '|---:|---:|---:|---:|',
      ...samples.map((s) => `| ${s.fops.toLocaleString('en-US')} | ${(s.ms / 1000).toFixed(1)} | ${(s.rssKiB / 1024).toFixed(2)} | ` +
        `${s.fops >= warm.fops ? ((s.rssKiB - warm.rssKiB) / 1024).toFixed(2) : ''} |`),
    ]);

    assert.equal(found, 0, 'no missing name was found');
    assert.ok(lookups >= N, `every stat reached the JS lookup handler (${lookups} of ${N})`);
    assert.deepEqual(Object.entries(h).filter(([, n]) => n !== 0), [], `glujs counters after the run: ${healthLine(h)}`);
    assert.deepEqual(crashLines(log), []);
    assert.deepEqual(glujsErrors(log, 'pass'), []);
    assert.ok(samples.every((s) => Number.isFinite(s.rssKiB)), 'the client lived through the run');
    if (SANITIZED) return t.diagnostic(`RSS not judged under ASan (grew ${(growth / 1024).toFixed(2)} MB)`);
    assert.ok(growth <= LIMIT_KIB, `client RSS grew by ${(growth / 1024).toFixed(2)} MB after warm-up (limit 5 MB)`);
  });
}
