// glujs as an npm package in an author's own project, end to end: npm pack;
// the tarball installed into a fresh project offline (its dependencies from
// npm's cache, pinned by this checkout's lockfile); `glujs setup` from it (the
// package's own native build and install); `glujs new`; the scaffolded
// project's own `npm test` on a real volume; `tsc --noEmit`; and `glujs
// check`, which accepts the translator and refuses a misspelt fop.
import test from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { run } from '../lib/testing/proc';
import { xlatorDir } from '../lib/tools/paths';
import { ROOT } from './util';

// NODE_TEST_CONTEXT would make the project's own node --test report to this runner instead of printing TAP
const { NODE_TEST_CONTEXT: _ctx, ...env } = process.env;
const npm = (cwd: string, args: string[], ms = 180_000) =>
  run('npm', args, ms, { ...env, npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' }, cwd);

test('package: npm pack, install offline into a new project, glujs new, its npm test on a real volume, tsc, glujs check', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'glujs-package-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  // 1. npm pack (dist is built: prepack's gen + tsc is what a publisher runs)
  const pack = await npm(ROOT, ['pack', '--ignore-scripts', '--json', '--pack-destination', dir]);
  assert.equal(pack.code, 0, pack.err);
  const info = JSON.parse(pack.out)[0] as { filename: string; files: { path: string }[] };
  const files = info.files.map((f) => f.path);
  for (const f of ['dist/lib/index.js', 'dist/lib/index.d.ts', 'dist/lib/testing/index.d.ts', 'dist/lib/daemon/runtime.js',
    'dist/lib/tools/cli.js', 'native/bridge.h', 'binding.gyp', 'tools/gen-fops.mjs', 'scripts/setup.sh', 'README.md'])
    assert.ok(files.includes(f), `the package carries ${f}`);
  for (const f of files) assert.doesNotMatch(f, /^(dist\/)?(test|bench)\/|^native\/gen\//, `the package does not carry ${f}`);
  // 2. a fresh project, the tarball installed offline
  const tgz = path.join(dir, info.filename), proj = path.join(dir, 'proj');
  fs.mkdirSync(proj);
  const own = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  const mainLock = JSON.parse(fs.readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8'));
  const spec = `file:${path.relative(proj, tgz)}`;
  const pkg = { name: 'proj', version: '1.0.0', private: true, dependencies: { glujs: spec } };
  fs.writeFileSync(path.join(proj, 'package.json'), JSON.stringify(pkg, null, 2));
  const lock: { packages: Record<string, unknown> } & Record<string, unknown> = {
    name: 'proj', version: '1.0.0', lockfileVersion: 3, requires: true,
    packages: { '': { name: 'proj', version: '1.0.0', dependencies: pkg.dependencies } },
  };
  lock.packages['node_modules/glujs'] = {
    version: own.version, resolved: spec, hasInstallScript: true, license: own.license, bin: own.bin, engines: own.engines,
    dependencies: own.dependencies,
    integrity: `sha512-${crypto.createHash('sha512').update(fs.readFileSync(tgz)).digest('base64')}`,
  };
  for (const [k, v] of Object.entries(mainLock.packages as Record<string, unknown>)) if (k) lock.packages[k] = v;
  fs.writeFileSync(path.join(proj, 'package-lock.json'), JSON.stringify(lock, null, 2));
  const ci = await npm(proj, ['ci', '--offline']);
  assert.equal(ci.code, 0, `npm ci --offline: ${ci.err}`);
  // `npx glujs setup` from the installed package: its own libnode, native build and
  // install (then the checkout's build is installed again, whatever happens)
  t.after(() => run('node', [path.join(ROOT, 'dist', 'lib', 'tools', 'cli.js'), 'install', '--quiet'], 60_000));
  const setup = await npm(proj, ['exec', '--offline', '--', 'glujs', 'setup'], 600_000);
  assert.equal(setup.code, 0, `glujs setup: ${setup.out}${setup.err}`);
  const built = path.join(proj, 'node_modules', 'glujs', 'build', 'Release', 'glujs.node');
  assert.ok(fs.existsSync(built), 'glujs setup built the xlator inside the package');
  assert.equal(fs.realpathSync(path.join(xlatorDir(), 'features', 'glujs.so')), fs.realpathSync(built), 'and installed it');
  // 3. glujs new
  const scaffold = await npm(proj, ['exec', '--offline', '--', 'glujs', 'new', 'tagger']);
  assert.equal(scaffold.code, 0, scaffold.err);
  for (const f of ['tsconfig.json', 'src/tagger.ts', 'test/tagger.test.ts', 'README.md'])
    assert.ok(fs.existsSync(path.join(proj, f)), `glujs new made ${f}`);
  assert.match(fs.readFileSync(path.join(proj, 'README.md'), 'utf8'), /type features\/glujs[\s\S]*glujs filter install[\s\S]*user\.xlator\.glujs/);
  const scaffolded = JSON.parse(fs.readFileSync(path.join(proj, 'package.json'), 'utf8'));
  assert.equal(scaffolded.dependencies.glujs, spec, 'glujs stays the dependency it was installed as');
  const install = await npm(proj, ['install', '--offline']);
  assert.equal(install.code, 0, `npm install --offline: ${install.err}`);
  // 4. its own npm test, on a real volume, with the package's own xlator
  const tst = await npm(proj, ['test']);
  assert.equal(tst.code, 0, `the scaffolded project's npm test:\n${tst.out}\n${tst.err}`);
  assert.match(tst.out, /# pass 1\b/);
  assert.match(tst.out, /# fail 0\b/);
  // 5. tsc --noEmit of its translator (and test) with glujs's own types
  const tsc = await npm(proj, ['exec', '--offline', '--', 'tsc', '--noEmit', '-p', '.']);
  assert.equal(tsc.code, 0, `tsc --noEmit: ${tsc.out}${tsc.err}`);
  // 6. glujs check: the translator passes, a misspelt fop is refused
  const ok = await npm(proj, ['exec', '--offline', '--', 'glujs', 'check', 'src/tagger.ts']);
  assert.equal(ok.code, 0, `glujs check: ${ok.out}${ok.err}`);
  fs.writeFileSync(path.join(proj, 'src', 'typo.ts'), fs.readFileSync(path.join(proj, 'src', 'tagger.ts'), 'utf8').replace('async create(', 'async creat('));
  const typo = await npm(proj, ['exec', '--offline', '--', 'glujs', 'check', 'src/typo.ts']);
  assert.notEqual(typo.code, 0);
  assert.match(typo.out + typo.err, /creat: not a fop; did you mean create\?/);
});
