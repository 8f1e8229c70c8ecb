// glujs inside a libgfapi process: test/gfapi/probe.c loads the same client
// volfile the FUSE mount uses (with two glujs translators in it) through
// glfs_set_volfile, works through it, and calls glfs_fini, once or several
// times in one process; and, on a cluster, fetches the volfile from glusterd
// (glfs_set_volfile_server), where `glujs filter` put the NLC in it.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { onProcessExit, withCluster, withVolume, type Volume } from '../lib/testing';
import { daemonEnv, readText, run } from '../lib/testing/proc';
import { ROOT, example, glujs, grep, SLOW } from './util';

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

test('gfapi through glusterd: the probe on a client host of a replica-3 cluster fetches the volfile from glusterd; the NLC the filter put in it runs in the gfapi process', { timeout: 120_000 * SLOW }, async (t) => {
  const c = await withCluster(t, {
    hosts: 3, layout: 'replicate 3', clients: 1,
    client: [{ module: example('nlc.ts'), options: { timeout: 600 } }], options: { 'features.cache-invalidation': 'on' },
  });
  const host = c.clients[0], log = path.join(host.root, 'log', 'gfapi.log');
  // in c1's namespaces: glusterd on h2 (by name, from c1's /etc/hosts) serves volume gv's client volfile
  const r = await host.exec(await probe(), ['h2:gv', log, '1', 'mkdir:/g', 'write:/g/a.txt:through glusterd', 'read:/g/a.txt', 'stat:/g/a.txt',
    'stat:/g/none', 'stat:/g/none', 'list:/g'], { timeoutMs: 120_000 });
  const text = readText(log);
  assert.equal(r.code, 0, `probe exit ${r.code}\n${r.out}\n${r.err}\n${text.slice(-3000)}`);
  assert.deepEqual(r.out.trim().split('\n'), [
    'init 0', 'mkdir:/g ok', 'write:/g/a.txt:through glusterd ok', 'read:/g/a.txt through glusterd', 'stat:/g/a.txt ok',
    'stat:/g/none ENOENT', 'stat:/g/none ENOENT', 'list:/g a.txt', 'fini 0',
  ]);
  for (const b of c.bricks) assert.equal(fs.readFileSync(path.join(b.dir, 'g', 'a.txt'), 'utf8'), 'through glusterd', `the file on ${b.host}:${b.path}`);
  assert.equal(fs.readFileSync(path.join(c.mounts[0].dir, 'g', 'a.txt'), 'utf8'), 'through glusterd', 'and through the FUSE mount');
  // the glujs translator ran in the gfapi process: loaded from the filtered volfile, and its fini() logged its counters
  assert.equal(grep(text, /gv-glujs: loaded translator module .*nlc\.ts/).length, 1, 'nlc loaded in the gfapi process');
  assert.equal(grep(text, /gv-glujs: kernel tier off: this process is not a FUSE client/).length, 1);
  const counters = grep(text, /nl-cache counters: /);
  assert.equal(counters.length, 1, 'nlc fini() ran once, at glfs_fini');
  assert.match(counters[0], / native_hits=[1-9]/, 'the second stat of /g/none was a hit');
  // glfs_fini takes the graph down (glujs hears PARENT_DOWN first), and AFR then logs
  // "All subvolumes are down" as an error line: look at what comes before
  const fini = text.indexOf('gv-glujs: parent down: releasing the JS environment');
  assert.ok(fini > 0, 'glfs_fini took the graph down');
  assert.deepEqual(grep(text.slice(0, fini), /\] [EC] \[/), [], 'no error lines in the gfapi log before glfs_fini');
});
