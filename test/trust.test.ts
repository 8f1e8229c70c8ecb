// What glujs agrees to load into a root daemon (lib/daemon/trust.ts): StrictModes for the
// module and every file it loads, and a transpile cache nobody else can write.
// "Another user" is a uid with no account (chown), and a real process of that uid
// (setpriv) for the cache.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { onProcessExit, tryStartVolume, withVolume } from '../lib/testing';
import { run } from '../lib/testing/proc';
import { ROOT, glujs, grep } from './util';

const OTHER = 23456; // a uid that is not root and owns nothing else here
const base = fs.mkdtempSync(path.join(ROOT, '.trust-')); // below root-owned 0755 directories
onProcessExit(() => fs.rmSync(base, { recursive: true, force: true }));
test.after(() => fs.rmSync(base, { recursive: true, force: true }));

const MODULE = `import { Translator, type Op } from 'glujs';
import { tag } from './helper';
export default class T extends Translator {
  async lookup(op: Op<'lookup'>) { if (op.loc.name === 'probe') this.log.info('TRUSTED ' + tag); return op.wind(); }
}
`;
/** A module dir: module.ts importing helper.ts; returns the module path. */
function moduleDir(name: string, opts: { dirMode?: number; dirUid?: number; helperUid?: number; under?: string } = {}): string {
  const d = path.join(opts.under ?? base, name);
  fs.mkdirSync(d, { recursive: true });
  fs.writeFileSync(path.join(d, 'module.ts'), MODULE);
  fs.writeFileSync(path.join(d, 'helper.ts'), `export const tag = '${name}';\n`);
  if (opts.helperUid !== undefined) fs.chownSync(path.join(d, 'helper.ts'), opts.helperUid, 0);
  if (opts.dirUid !== undefined) fs.chownSync(d, opts.dirUid, 0);
  fs.chmodSync(d, opts.dirMode ?? 0o755);
  return path.join(d, 'module.ts');
}

async function refused(module: string, why: RegExp) {
  const r = await tryStartVolume({ client: [glujs('trust', module)] });
  if (r.ok) { await r.volume.stop(); assert.fail(`${module} was loaded`); }
  assert.match(r.clientLog, why);
  assert.equal(grep(r.clientLog, /0-trust: cannot load translator module/).length, 1, 'one line says why');
}

test('StrictModes: a module in a directory anyone may write is refused', async () => {
  const m = moduleDir('world', { dirMode: 0o777 });
  await refused(m, /0-trust: cannot load translator module .*refusing to load .*\/world\/module\.ts: .*\/world is writable by anyone \(mode 777\)/);
});

test('StrictModes: a group-writable directory is refused', async () => {
  const m = moduleDir('group', { dirMode: 0o775 });
  await refused(m, /refusing to load .*\/group\/module\.ts: .*\/group is writable by group 0 \(mode 775\)/);
});

test('StrictModes: a directory owned by another user is refused', async () => {
  const m = moduleDir('theirs', { dirUid: OTHER });
  await refused(m, new RegExp(`refusing to load .*/theirs/module\\.ts: .*/theirs is owned by uid ${OTHER}`));
});

test('StrictModes: an imported file owned by another user is refused, and named', async () => {
  const m = moduleDir('import', { helperUid: OTHER });
  await refused(m, new RegExp(`refusing to load .*/import/helper\\.ts: .*/import/helper\\.ts is owned by uid ${OTHER}`));
});

test('StrictModes: a symlink to a module in an unsafe place is refused', async () => {
  const m = moduleDir('behind-link', { dirMode: 0o777 });
  const safe = path.join(base, 'safe-links');
  fs.mkdirSync(safe, { mode: 0o755 });
  fs.symlinkSync(m, path.join(safe, 'link.ts'));
  await refused(path.join(safe, 'link.ts'), /refusing to load .*\/safe-links\/link\.ts: .*\/behind-link is writable by anyone/);
});

test('StrictModes: a safe module loads, also below a sticky world-writable directory like /tmp', async (t) => {
  const sticky = path.join(base, 'sticky');
  fs.mkdirSync(sticky);
  fs.chmodSync(sticky, 0o1777);
  for (const m of [moduleDir('fine'), moduleDir('in-sticky', { under: sticky })]) {
    const v = await withVolume(t, { client: [glujs('trust', m)] });
    fs.mkdirSync(path.join(v.mount, 'd'));
    assert.equal(fs.existsSync(path.join(v.mount, 'd', 'probe')), false);
    assert.match(v.log(0), new RegExp(`0-trust: TRUSTED ${path.basename(path.dirname(m))}`));
    await v.stop();
  }
});

/** The cache key lib/daemon/loader.ts uses for a file. */
function cacheKey(file: string): string {
  const tsVersion = JSON.parse(fs.readFileSync(require.resolve('typescript/package.json'), 'utf8')).version;
  return createHash('sha256').update(`glujs-1 ts-${tsVersion}\0${file}\0${fs.readFileSync(file, 'utf8')}`).digest('hex');
}

test('transpile cache: another user cannot write it; a planted or unsafe entry is ignored and logged', async (t) => {
  const cache = path.join(base, 'cache');
  const prev = process.env.GLUJS_CACHE_DIR;
  process.env.GLUJS_CACHE_DIR = cache; // the daemons inherit it
  t.after(() => { if (prev === undefined) delete process.env.GLUJS_CACHE_DIR; else process.env.GLUJS_CACHE_DIR = prev; });
  const m = moduleDir('cached');
  // first start creates the cache: root's, 0700
  let v = await withVolume(t, { client: [glujs('trust', m)] });
  await v.stop();
  const st = fs.statSync(cache);
  assert.equal(st.uid, 0);
  assert.equal(st.mode & 0o777, 0o700);
  assert.ok(fs.existsSync(path.join(cache, `${cacheKey(m)}.js`)), 'the module was cached');
  // a real process of another uid cannot plant anything there
  const plant = await run('setpriv', ['--reuid', String(OTHER), '--regid', String(OTHER), '--clear-groups', 'sh', '-c',
    `echo 'console.log(1)' > ${path.join(cache, 'planted.js')}`], 10_000);
  assert.notEqual(plant.code, 0, 'uid 23456 wrote into the cache');
  assert.match(plant.err, /Permission denied/);
  // an entry that is not ours (as if planted before the directory was safe) is ignored
  const entry = path.join(cache, `${cacheKey(m)}.js`);
  fs.writeFileSync(entry, `"use strict"; Object.defineProperty(exports, '__esModule', { value: true });
    const { Translator } = require('glujs');
    class Evil extends Translator { async lookup(op) { if (op.loc.name === 'probe') this.log.info('PLANTED'); return op.wind(); } }
    exports.default = Evil;`);
  fs.chownSync(entry, OTHER, OTHER);
  v = await withVolume(t, { client: [glujs('trust', m)] });
  fs.mkdirSync(path.join(v.mount, 'd'));
  fs.existsSync(path.join(v.mount, 'd', 'probe'));
  assert.match(v.log(0), new RegExp(`0-trust: transpile cache entry ${entry} ignored: owned by uid ${OTHER}`));
  assert.match(v.log(0), /0-trust: TRUSTED cached/);
  assert.doesNotMatch(v.log(0), /PLANTED/);
  await v.stop();
  // a cache directory others may read or write is not used at all
  fs.chmodSync(cache, 0o777);
  v = await withVolume(t, { client: [glujs('trust', m)] });
  assert.match(v.log(0), new RegExp(`0-trust: transpile cache ${cache} has mode 777 \\(0700 expected\\): not used`));
  await v.stop();
});

test('transpile cache: the default is root\'s own /var/cache/glujs, not a world-writable temp dir', async () => {
  assert.ok(!('GLUJS_CACHE_DIR' in process.env) || process.env.GLUJS_CACHE_DIR !== path.join(os.tmpdir(), 'glujs-cache'));
  const st = fs.statSync('/var/cache/glujs');
  assert.equal(st.uid, 0);
  assert.equal(st.mode & 0o777, 0o700);
});
