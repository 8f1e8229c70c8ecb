// Data integrity through a translator that handles every fop (test/fixtures/passthru.ts):
// fio with crc32c verification (4 jobs of random mixed read/write, then fio's verify
// pass), a checksum of every file through the mount against the brick, and dbench's
// metadata-heavy load followed by a comparison of the whole tree with the brick.
// Fast mode: fio 64 MiB in total, dbench 10 s. GLUJS_STRESS=full: fio 1 GiB, dbench 180 s.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { withVolume } from '../../lib/testing';
import { fixture, glujs, readTree } from '../util';
import {
  crashLines, exec, fopCounts, glujsErrors, health, healthLine, hostLine, pick, report, sha256File, sleep, sumCounts, treeDiff,
} from './common';

const pass = () => glujs('pass', fixture('passthru.ts'));
const MiB = 1 << 20;

test('integrity: fio randrw with crc32c verify through a pass-through of every fop; files match the brick', { timeout: pick(5, 30) * 60_000 }, async (t) => {
  const total = pick(64, 1024) * MiB, jobs = 4;
  const v = await withVolume(t, { client: [pass()] });
  const dir = path.join(v.mount, 'fio');
  fs.mkdirSync(dir);
  const args = [
    '--name=integrity', `--directory=${dir}`, `--numjobs=${jobs}`, `--size=${total / jobs}`,
    '--rw=randrw', '--rwmixread=50', '--bsrange=4k-64k', '--ioengine=psync',
    // O_DIRECT: reads go to GlusterFS (and so through the translator) instead of the page cache
    '--direct=1',
    '--verify=crc32c', '--verify_fatal=1', '--do_verify=1', '--verify_state_save=0',
    '--output-format=json',
  ];
  const r = await exec('fio', args, { timeoutMs: pick(4, 25) * 60_000, cwd: v.dir });
  const json = r.out.indexOf('{') >= 0 ? JSON.parse(r.out.slice(r.out.indexOf('{'))) : { jobs: [] };
  type Dir = { io_bytes: number; iops: number; bw: number; lat_ns?: { mean: number } };
  const js: { jobname: string; error: number; read: Dir; write: Dir; job_runtime: number }[] = json.jobs;
  const errors = js.reduce((n, j) => n + (j.error ? 1 : 0), 0);
  const verifyLines = r.err.split('\n').filter((l) => /verify|crc32c|bad magic|error/i.test(l));

  // every file, read through the mount (a fresh open: no page cache) and from the brick
  const files = fs.readdirSync(dir).sort();
  const mismatches: string[] = [];
  for (const f of files) {
    const [a, b] = await Promise.all([sha256File(path.join(dir, f)), sha256File(path.join(v.brickDir, 'fio', f))]);
    if (a !== b) mismatches.push(`${f}: mount ${a} brick ${b}`);
  }
  await sleep(1100);
  const dump = await v.statedump(0);
  const fops = fopCounts(dump, 'pass'), h = health(dump, 'pass');
  const log = v.log(0);
  const sum = (k: 'read' | 'write') => js.reduce((n, j) => n + j[k].io_bytes, 0);
  const runtime = Math.max(0, ...js.map((j) => j.job_runtime)) / 1000;

  report('Integrity: fio with crc32c verification', [
    `- ${new Date().toISOString()}; ${hostLine()}`,
    `- \`fio ${args.join(' ').replace(v.mount, '<mount>')}\``,
    `- fio exit ${r.code}, ${r.ms / 1000} s; jobs with an error: **${errors}** of ${js.length}; verify messages on stderr: **${verifyLines.length}**`,
    `- moved ${(sum('read') / MiB).toFixed(0)} MiB read (random reads plus the verify pass) and ${(sum('write') / MiB).toFixed(0)} MiB ` +
      `written over ${(total / MiB)} MiB of files in ${runtime.toFixed(1)} s`,
    `- sha256 of ${files.length} files through the mount vs on the brick: **${mismatches.length} mismatches**`,
    `- fops that reached JS: ${Object.entries(fops).map(([k, n]) => `${k} ${n}`).join(', ')}`,
    `- glujs counters after the run: ${healthLine(h)}`,
    '',
    '| job | error | read MiB | read IOPS | write MiB | write IOPS |',
    '|---|---:|---:|---:|---:|---:|',
    ...js.map((j, i) => `| ${j.jobname}.${i} | ${j.error} | ${(j.read.io_bytes / MiB).toFixed(1)} | ${j.read.iops.toFixed(0)} | ` +
      `${(j.write.io_bytes / MiB).toFixed(1)} | ${j.write.iops.toFixed(0)} |`),
  ]);

  assert.equal(r.timedOut, false, 'fio finished in time');
  assert.equal(r.code, 0, `fio exit status (stderr: ${r.err.slice(-2000)})`);
  assert.equal(js.length, jobs, 'one result per job');
  assert.equal(errors, 0, 'no fio job reported an error');
  assert.deepEqual(verifyLines, [], 'no verify failure');
  assert.equal(files.length, jobs, 'one file per job');
  assert.deepEqual(mismatches, [], 'every file reads back as it is on the brick');
  assert.ok((fops.writev ?? 0) > 0 && (fops.readv ?? 0) > 0, 'reads and writes went through JS');
  assert.ok(sumCounts(fops) > 0, 'the statedump has per-fop counts of the glujs instance');
  assert.deepEqual(Object.entries(h).filter(([, n]) => n !== 0), [], `glujs counters after the run: ${healthLine(h)}`);
  assert.deepEqual(crashLines(log), []);
  assert.deepEqual(glujsErrors(log, 'pass'), []);
});

test('integrity: dbench through a pass-through of every fop; the tree matches the brick', { timeout: pick(5, 30) * 60_000 }, async (t) => {
  const secs = pick(10, 180), clients = 4;
  const v = await withVolume(t, { client: [pass()] });
  const dir = path.join(v.mount, 'db');
  fs.mkdirSync(dir);
  // --skip-cleanup: keep dbench's tree, to compare it with the brick afterwards
  const args = ['-D', dir, '-t', String(secs), '--skip-cleanup', String(clients)];
  const r = await exec('dbench', args, { timeoutMs: (secs + 240) * 1000, cwd: v.dir });
  // dbench prints "[N] <op> failed ...", "(N) ERROR: ...", "... - expected ...", "Child failed ...".
  // "failed to create barrier semaphore" is about SysV semaphores in this container, not the file system.
  const bad = (r.out + r.err).split('\n')
    .filter((l) => /fail|error|expected/i.test(l) && !/^failed to create barrier semaphore\s*$/.test(l));
  const throughput = /Throughput ([\d.]+) MB\/sec\s+(\d+) clients.*max_latency=([\d.]+) ms/.exec(r.out);
  const table = r.out.split('\n').filter((l) => /^\s*\w+\s+\d+\s+[\d.]+\s+[\d.]+\s*$/.test(l));
  const ops = table.reduce((n, l) => n + Number(l.trim().split(/\s+/)[1]), 0);

  const mountTree = readTree(v.mount), brickTree = readTree(v.brickDir);
  const diff = treeDiff(mountTree, brickTree);
  await sleep(1100);
  const dump = await v.statedump(0);
  const fops = fopCounts(dump, 'pass'), h = health(dump, 'pass');
  const log = v.log(0);

  report('Integrity: dbench', [
    `- ${new Date().toISOString()}; ${hostLine()}`,
    `- \`dbench ${args.join(' ').replace(v.mount, '<mount>')}\` (load /usr/share/dbench/client.txt)`,
    `- exit ${r.code}; ${throughput ? `throughput ${throughput[1]} MB/s, ${throughput[2]} clients, max latency ${throughput[3]} ms` : 'no throughput line'}; ` +
      `${ops.toLocaleString('en-US')} operations; error lines: **${bad.length}**`,
    `- tree after the run: ${mountTree.size} entries through the mount, ${brickTree.size} on the brick, **${diff.length} differences**`,
    `- fops that reached JS: ${sumCounts(fops).toLocaleString('en-US')} ` +
      `(${Object.entries(fops).map(([k, n]) => `${k} ${n}`).join(', ')}); glujs counters after the run: ${healthLine(h)}`,
    '',
    '```',
    ...table.map((l) => l.trimEnd()),
    '```',
  ]);

  assert.equal(r.timedOut, false, 'dbench finished in time');
  assert.equal(r.code, 0, `dbench exit status (${r.err.slice(-2000)})`);
  assert.deepEqual(bad, [], 'dbench reports no errors');
  assert.ok(throughput, `dbench printed its throughput:\n${r.out.slice(-2000)}`);
  assert.ok(ops > 0, 'dbench ran operations');
  assert.ok(mountTree.size > 10, `dbench left a tree (${mountTree.size} entries)`);
  assert.deepEqual(diff, [], 'the tree through the mount matches the brick');
  assert.ok(sumCounts(fops) > 0, 'the statedump has per-fop counts of the glujs instance');
  assert.deepEqual(Object.entries(h).filter(([, n]) => n !== 0), [], `glujs counters after the run: ${healthLine(h)}`);
  assert.deepEqual(crashLines(log), []);
  assert.deepEqual(glujsErrors(log, 'pass'), []);
});
