// glujs inside a libgfapi process: test/gfapi/probe.c loads the same client
// volfile the FUSE mount uses (with two glujs translators in it) through
// glfs_set_volfile, works through it, and calls glfs_fini, once or several
// times in one process.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { onProcessExit, withVolume, type Volume } from '../lib/testing';
import { daemonEnv, readText, run } from '../lib/testing/proc';
import { ROOT, example, glujs, grep } from './util';

let probeBin = '';
/** Builds the probe once (cc and libglusterfs-dev come with scripts/setup.sh). */
async function probe(): Promise<string> {
  if (probeBin) return probeBin;
  const dir = fs.mkdtempSync('/tmp/glujs-gfapi-');
  onProcessExit(() => fs.rmSync(dir, { recursive: true, force: true }));
  const flags = await run('pkg-config', ['--cflags', '--libs', 'glusterfs-api'], 10_000);
  assert.equal(flags.code, 0, `pkg-config glusterfs-api: ${flags.err}`);
  const bin = path.join(dir, 'glujs-gfapi-probe');
  const cc = await run('cc', ['-O1', '-g', '-Wall', '-o', bin, path.join(ROOT, 'test', 'gfapi', 'probe.c'),
    ...flags.out.trim().split(/\s+/)], 60_000);
  assert.equal(cc.code, 0, `cc probe.c: ${cc.err}`);
  return (probeBin = bin);
}

/** Runs the probe on v's client volfile; resolves to its lines and its log. */
async function gfapi(v: Volume, rounds: number, cmds: string[]) {
  const log = path.join(v.dir, `gfapi-${Date.now()}.log`);
  const r = await run(await probe(), [v.clientVolfile, log, String(rounds), ...cmds], 120_000, daemonEnv());
  return { code: r.code, lines: r.out.trim().split('\n'), err: r.err, log: readText(log) };
}

const volume = (t: test.TestContext) => withVolume(t, {
  client: [glujs('upper', example('upper.ts')), glujs('nlc', example('nlc.ts')), glujs('hide', example('hide.ts'), { prefix: 'secret' })],
});

test('gfapi: glujs translators run in a libgfapi process from the client volfile', async (t) => {
  const v = await volume(t);
  const r = await gfapi(v, 1, [
    'write:/a.txt:hello gfapi', 'read:/a.txt', 'write:/secret-1:hidden', 'stat:/secret-1', 'stat:/a.txt',
    'mkdir:/d', 'write:/d/b:two', 'list:/', 'unlink:/d/b', 'stat:/d/b', 'stat:/d/b',
  ]);
  assert.equal(r.code, 0, `probe exit ${r.code}\n${r.lines.join('\n')}\n${r.err}\n${r.log.slice(-3000)}`);
  const list = r.lines.splice(8, 1)[0] ?? '';
  assert.deepEqual(r.lines, [
    'init 0',
    'write:/a.txt:hello gfapi ok',
    'read:/a.txt HELLO GFAPI', // upper rewrote the writev in this process's JS
    'write:/secret-1:hidden ok',
    'stat:/secret-1 ENOENT', // hide answers lookup
    'stat:/a.txt ok',
    'mkdir:/d ok',
    'write:/d/b:two ok',
    'unlink:/d/b ok',
    'stat:/d/b ENOENT',
    'stat:/d/b ENOENT', // nlc: a hit, answered natively
    'fini 0',
  ]);
  assert.match(list, /^list:\/ /);
  const listed = list.slice('list:/ '.length).split(',').sort();
  assert.deepEqual(listed, ['a.txt', 'd'], 'hide filtered the listing (secret-1 is on the brick)');
  assert.equal(fs.readFileSync(path.join(v.brickDir, 'secret-1'), 'utf8'), 'HIDDEN');
  assert.equal(fs.readFileSync(path.join(v.brickDir, 'a.txt'), 'utf8'), 'HELLO GFAPI');
  // glfs_fini ran every translator's fini(): nlc logs its counters there
  const counters = grep(r.log, /nl-cache counters: /);
  assert.equal(counters.length, 1, 'nlc fini() ran once');
  assert.match(counters[0], / native_hits=[1-9]/);
  for (const m of ['upper.ts', 'nlc.ts', 'hide.ts']) assert.equal(grep(r.log, new RegExp(`loaded translator module .*${m}`)).length, 1, `${m} loaded once`);
  assert.deepEqual(grep(r.log, /\] [EC] \[/), [], 'no error lines in the gfapi log');
});

test('gfapi: glfs_init and glfs_fini twice in one process', async (t) => {
  const v = await volume(t);
  const cmds = ['write:/r.txt:round', 'read:/r.txt', 'stat:/secret-r'];
  const r = await gfapi(v, 2, cmds);
  assert.equal(r.code, 0, `probe exit ${r.code}\n${r.lines.join('\n')}\n${r.err}\n${r.log.slice(-3000)}`);
  const round = ['init 0', 'write:/r.txt:round ok', 'read:/r.txt ROUND', 'stat:/secret-r ENOENT', 'fini 0'];
  assert.deepEqual(r.lines, [...round, ...round]);
  assert.equal(grep(r.log, /loaded translator module .*upper\.ts/).length, 2, 'a fresh environment per graph');
  assert.deepEqual(grep(r.log, /\] [EC] \[/), [], 'no error lines in the gfapi log');
});
