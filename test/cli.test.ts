// The glujs command line: check, dev, install's version check.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { ROOT, example, until, errCode } from './util';
import { builtFor, glusterVersion } from '../lib/tools/paths';

const CLI = path.join(ROOT, 'dist', 'lib', 'tools', 'cli.js');
const glujs = (...args: string[]) => spawnSync('node', [CLI, ...args], { encoding: 'utf8' });

test('glujs check: handlers of a good module, errors of a bad one', () => {
  const ok = glujs('check', example('nlc.ts'), example('audit.ts'));
  assert.equal(ok.status, 0, ok.stdout + ok.stderr);
  assert.match(ok.stdout, /nlc\.ts: ok\n  handlers: create, link, lookup, mkdir, mknod, readdirp, rename, rmdir, symlink\n  hooks: dump, fini, init, notify/);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'glujs-check-'));
  try {
    const bad = path.join(dir, 'bad.ts');
    fs.writeFileSync(bad, `import { Translator, type Op } from 'glujs';
export default class Bad extends Translator {
  async lookpu(op: Op<'lookup'>) { return op.wind(); }
  async create(op: Op<'create'>, extra: number) { return op.wind(); }
  async writev(op: Op<'lookup'>) { return op.wind(); }
  helper() {}
}
`);
    const r = glujs('check', bad);
    assert.equal(r.status, 1);
    assert.match(r.stdout, /error: lookpu: not a fop; did you mean lookup\?/);
    assert.match(r.stdout, /error: create: a handler takes one parameter \(op\), this one takes 2/);
    assert.match(r.stdout, /error: .*bad\.ts:5:\d+: Property 'writev' in type 'Bad' is not assignable/);
    assert.doesNotMatch(r.stdout, /helper/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  assert.equal(glujs('check').status, 2);
  // a helper module (no default export) is told apart from a broken translator
  const helper = glujs('check', example('nlc-cache.ts'));
  assert.equal(helper.status, 1);
  assert.match(helper.stdout, /not a translator module: no default export \(it exports NameCache\); .*glujs check the translator/);
});

test('glujs install knows which GlusterFS it was built for', () => {
  assert.equal(builtFor(), glusterVersion());
  const r = glujs('install');
  assert.equal(r.status, 0, r.stderr);
});

test('glujs dev: a throwaway volume with the module, its log, torn down on Ctrl-C', async () => {
  const dev = spawn('node', [CLI, 'dev', example('deny.ts'), '--option', 'name=nope'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  dev.stdout.on('data', (d) => (out += d));
  dev.stderr.on('data', (d) => (out += d));
  try {
    const mnt = (await until(() => /mounted at\n\s+(\S+)/.exec(out), 20000, 'the dev volume'))[1];
    assert.equal(errCode(() => fs.writeFileSync(path.join(mnt, 'nope'), 'x')), 'EACCES');
    await until(() => /loaded translator module .*deny\.ts|handlers: create/.test(out), 5000, 'the log lines');
    dev.kill('SIGINT');
    await new Promise((r) => dev.once('exit', r));
    assert.match(out, /volume stopped/);
    assert.ok(!fs.readFileSync('/proc/mounts', 'utf8').includes(mnt), 'unmounted');
  } finally {
    if (dev.exitCode === null) dev.kill('SIGKILL');
  }
});
