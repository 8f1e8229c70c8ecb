// glujs with glusterd: volfile editing (unit tests, no GlusterFS needed), the
// `glujs volfile` and `glujs filter` commands, and, against a private glusterd
// (lib/testing/glusterd.ts), the client-graph filter on a live mount, the brick graph via
// `gluster volume set V user.xlator.glujs ...`, and 20 graph switches under load.
import test, { describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, execFile } from 'node:child_process';
import { Volfile, VolfileError, quoteWord } from '../lib/tools/volfile';
import { applyFilter } from '../lib/tools/commands/filter';
import { filterDir } from '../lib/tools/paths';
import { startGlusterd, type Glusterd, type Mount } from '../lib/testing/glusterd';
import { ROOT, example, grep, until, sleep, alive, errCode, snapshot, GLUJS_TYPE } from './util';

/** The xlator under test (the ASan run installs features/ and user/glujs-asan) and its user.xlator.* name. */
const UX = GLUJS_TYPE.replace(/^.*\//, '');
/** --type for `glujs filter install` when the xlator under test is not the default one. */
const typeArgs = () => (GLUJS_TYPE === 'features/glujs' ? [] : ['--type', GLUJS_TYPE]);

const CLI = path.join(ROOT, 'dist', 'lib', 'tools', 'cli.js');

/** Run the glujs CLI; resolves to its exit code and output (never rejects). */
function glujs(args: string[], opts: { env?: NodeJS.ProcessEnv; input?: string } = {}): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [CLI, ...args], { env: opts.env ?? process.env, timeout: 120000, maxBuffer: 16 << 20 },
      (e, out, err) => resolve({ code: e ? (typeof e.code === 'number' ? e.code : -1) : 0, out: String(out), err: String(err) }));
    if (opts.input !== undefined) child.stdin!.end(opts.input);
  });
}

// A client volfile as glusterd 10.3 writes it (shortened), with a comment and odd spacing added.
const CLIENT_VOL = `volume gv-client-0
    type protocol/client
    option remote-subvolume /bricks/b0
    option remote-host vm
end-volume

# a comment that must survive
volume gv-dht
    type cluster/distribute
    option lock-migration off
    subvolumes gv-client-0
end-volume

volume gv-md-cache
    type performance/md-cache
    subvolumes   gv-dht    # trailing comment
end-volume

volume gv
    type debug/io-stats
    option log-level INFO
    subvolumes gv-md-cache
end-volume
`;

describe('volfile parsing and editing', () => {
  test('parses volumes, types, options, subvolumes; the top is the last volume', () => {
    const vf = Volfile.parse(CLIENT_VOL, 't.vol');
    assert.deepEqual(vf.volumes.map((v) => v.name), ['gv-client-0', 'gv-dht', 'gv-md-cache', 'gv']);
    assert.equal(vf.top.name, 'gv');
    assert.equal(vf.need('gv-dht').type, 'cluster/distribute');
    assert.deepEqual(vf.need('gv-client-0').options, [{ key: 'remote-subvolume', value: '/bricks/b0' }, { key: 'remote-host', value: 'vm' }]);
    assert.deepEqual(vf.need('gv-md-cache').subvolumes, ['gv-dht']);
    assert.deepEqual(vf.parentsOf('gv-dht').map((v) => v.name), ['gv-md-cache']);
    assert.equal(vf.toString(), CLIENT_VOL, 'printed back byte for byte');
  });

  test('default position: below the top io-stats volume (fuse -> io-stats -> glujs -> ...)', () => {
    const vf = Volfile.parse(CLIENT_VOL).insert({ name: 'gv-glujs', type: 'features/glujs', options: [['module', '/m.ts'], ['prefix', 'a b']] }, { default: true });
    assert.deepEqual(vf.need('gv').subvolumes, ['gv-glujs']);
    assert.deepEqual(vf.need('gv-glujs').subvolumes, ['gv-md-cache']);
    assert.deepEqual(vf.need('gv-glujs').options, [{ key: 'module', value: '/m.ts' }, { key: 'prefix', value: 'a b' }]);
    assert.equal(vf.top.name, 'gv');
    assert.match(vf.toString(), /option prefix "a b"\n/);
    // everything else unchanged: only the parent's subvolumes word and the new block differ
    const expected = CLIENT_VOL.replace('volume gv\n    type debug/io-stats\n    option log-level INFO\n    subvolumes gv-md-cache\n',
      'volume gv-glujs\n    type features/glujs\n    option module /m.ts\n    option prefix "a b"\n    subvolumes gv-md-cache\nend-volume\n\n' +
      'volume gv\n    type debug/io-stats\n    option log-level INFO\n    subvolumes gv-glujs\n');
    assert.equal(vf.toString(), expected);
    // and it is the exact inverse of remove
    assert.equal(vf.remove('gv-glujs').toString(), CLIENT_VOL);
  });

  test('--below, --above, --top', () => {
    const x = { name: 'g', type: 'features/glujs', options: { module: '/m.ts' } };
    const below = Volfile.parse(CLIENT_VOL).insert(x, { below: 'gv-dht' });
    assert.deepEqual(below.need('gv-dht').subvolumes, ['g']);
    assert.deepEqual(below.need('g').subvolumes, ['gv-client-0']);
    assert.ok(below.toString().includes('# a comment that must survive'));
    const above = Volfile.parse(CLIENT_VOL).insert(x, { above: 'gv-dht' });
    assert.deepEqual(above.need('gv-md-cache').subvolumes, ['g'], 'the trailing comment stays');
    assert.match(above.toString(), /subvolumes {3}g {4}# trailing comment/);
    assert.deepEqual(above.need('g').subvolumes, ['gv-dht']);
    const top = Volfile.parse(CLIENT_VOL).insert(x, { top: true });
    assert.deepEqual(top.need('gv').subvolumes, ['g']);
    const overTop = Volfile.parse(CLIENT_VOL).insert(x, { above: 'gv' });
    assert.equal(overTop.top.name, 'g', 'above the top: the new top');
    assert.deepEqual(overTop.need('g').subvolumes, ['gv']);
  });

  test('a volume with several children, a leaf, an unknown name, a taken name', () => {
    const dht2 = CLIENT_VOL.replace('end-volume\n\n# a comment', 'end-volume\n\nvolume gv-client-1\n    type protocol/client\nend-volume\n\n# a comment')
      .replace('subvolumes gv-client-0\n', 'subvolumes gv-client-0 gv-client-1\n');
    const vf = Volfile.parse(dht2);
    const x = { name: 'g', type: 'features/glujs' };
    assert.throws(() => vf.insert(x, { below: 'gv-dht' }), /has 2 subvolumes .*use --above/);
    const one = vf.insert(x, { above: 'gv-client-1' });
    assert.deepEqual(one.need('gv-dht').subvolumes, ['gv-client-0', 'g']);
    assert.throws(() => vf.insert(x, { below: 'gv-client-0' }), /has no subvolumes/);
    assert.throws(() => vf.insert(x, { below: 'nope' }), /no volume named 'nope'.*volumes: gv-client-0, gv-client-1/);
    assert.throws(() => vf.insert({ name: 'gv-dht', type: 't' }, { top: true }), /already/);
    assert.throws(() => Volfile.parse(CLIENT_VOL.replace('type debug/io-stats', 'type performance/io-threads')).insert(x, { default: true }),
      /not debug\/io-stats.*--below, --above or --top/);
    assert.throws(() => Volfile.parse(CLIENT_VOL).insert(x, { default: true, volname: 'other' }), /no debug\/io-stats volume named 'other'/);
  });

  test('names with slashes (brick graphs) and quoted words', () => {
    const text = 'volume /b/x\n  type debug/io-stats\n  option unique-id /b/x\nend-volume\n' +
      'volume s\n  type protocol/server\n  option "auth.addr./b/x.allow" "*"\n  option v "a \\"q\\" \\\\"\n  subvolumes /b/x\nend-volume\n';
    const vf = Volfile.parse(text);
    assert.deepEqual(vf.need('s').options, [{ key: 'auth.addr./b/x.allow', value: '*' }, { key: 'v', value: 'a "q" \\' }]);
    const ins = vf.insert({ name: 'g', type: 'user/glujs', options: [['module', '/with space/m.ts']] }, { below: 's' });
    assert.deepEqual(ins.need('g').subvolumes, ['/b/x']);
    assert.equal(ins.need('g').options[0].value, '/with space/m.ts');
    assert.equal(quoteWord('option'), '"option"');
    assert.equal(quoteWord('#x'), '"#x"');
  });

  for (const [what, text, why] of [
    ['an empty file', '# nothing\n', /no volume/],
    ['a missing end-volume', 'volume a\n type t\n', /has no 'end-volume'/],
    ['an option without a value', 'volume a\n type t\n option k\nend-volume\n', /:3: a value for option 'k' expected/],
    ['an undefined subvolume', 'volume a\n type t\n subvolumes b\nend-volume\n', /:3: .*subvolume 'b' is not defined before/],
    ['a volume defined twice', 'volume a\n type t\nend-volume\nvolume a\n type t\nend-volume\n', /:4: volume 'a' is defined twice/],
    ['no type', 'volume a\n option k v\nend-volume\n', /volume 'a' has no 'type'/],
    ['text outside a volume', 'hello\n', /:1: 'volume' expected, found 'hello'/],
    ['an unterminated string', 'volume a\n type "t\nend-volume\n', /:2: unterminated quoted string/],
  ] as const) {
    test(`parse errors: ${what}`, () => {
      assert.throws(() => Volfile.parse(text, 'bad.vol'), (e: unknown) => e instanceof VolfileError && why.test((e as Error).message));
    });
  }

  test('the filter splice is idempotent', () => {
    const entry = { module: '/m.ts', name: 'gv-glujs', options: [['prefix', 'x']] as Array<[string, string]>, position: { default: true as const } };
    const once = applyFilter(CLIENT_VOL, 'f', 'gv', entry);
    const twice = applyFilter(once, 'f', 'gv', entry);
    assert.equal(twice, once);
    assert.equal(grep(twice, 'type features/glujs').length, 1);
    // a changed config replaces the block instead of adding one
    const changed = applyFilter(once, 'f', 'gv', { ...entry, options: [['prefix', 'y']] });
    assert.equal(grep(changed, 'type features/glujs').length, 1);
    assert.match(changed, /option prefix y/);
  });
});

describe('glujs volfile (CLI, files)', () => {
  let dir = '';
  before(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'glujs-volfile-')); });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('from a file, from stdin, to -o; exit 2 with a clear message for bad input', async () => {
    const f = path.join(dir, 'c.vol');
    fs.writeFileSync(f, CLIENT_VOL);
    const mod = example('hide.ts');
    const r = await glujs(['volfile', f, '--module', mod, '--option', 'prefix=secret', '--name', 'hider']);
    assert.equal(r.code, 0, r.err);
    const vf = Volfile.parse(r.out);
    assert.deepEqual(vf.need('hider').options, [{ key: 'module', value: mod }, { key: 'prefix', value: 'secret' }]);
    assert.deepEqual(vf.need('gv').subvolumes, ['hider']);

    const s = await glujs(['volfile', '-', '--module', mod, '--above', 'gv-client-0'], { input: CLIENT_VOL });
    assert.equal(s.code, 0, s.err);
    assert.deepEqual(Volfile.parse(s.out).need('gv-glujs').subvolumes, ['gv-client-0'], 'default name: <volume>-glujs');

    const out = path.join(dir, 'out.vol');
    const o = await glujs(['volfile', f, '--module', mod, '--top', '-o', out]);
    assert.equal(o.code, 0, o.err);
    assert.match(o.err, /wrote .*out\.vol: gv -> gv-glujs -> gv-md-cache/);
    assert.deepEqual(Volfile.parse(fs.readFileSync(out, 'utf8')).need('gv').subvolumes, ['gv-glujs']);

    for (const [args, why] of [
      [[f, '--module', '/nonexistent/m.ts'], /module file \/nonexistent\/m\.ts does not exist/],
      [[f, '--module', mod, '--below', 'nope'], /no volume named 'nope'/],
      [[f, '--module', mod, '--below', 'gv', '--top'], /at most one of --below, --above, --top/],
      [[path.join(dir, 'missing.vol'), '--module', mod], /cannot read .*missing\.vol: ENOENT/],
      [[f, '--module', mod, '--option', 'novalue'], /--option wants key=value/],
      [[f], /--module PATH is required/],
      [[f, '--module', mod, '--bogus'], /unknown option --bogus/],
    ] as Array<[string[], RegExp]>) {
      const b = await glujs(['volfile', ...args]);
      assert.equal(b.code, 2, `${args.join(' ')}: ${b.err}`);
      assert.match(b.err, why);
      assert.equal(b.out, '');
    }
    const p = await glujs(['volfile', '-', '--module', mod], { input: 'volume a\n  type t\n  option k\nend-volume\n' });
    assert.equal(p.code, 2);
    assert.match(p.err, /cannot parse <stdin>: <stdin>:3: a value for option 'k' expected after 'k', found 'end-volume'/);
  });
});

// ---------------------------------------------------------------------------------------
// against a private glusterd

/** Polls an async condition. */
async function untilAsync<T>(fn: () => Promise<T | undefined | false>, ms: number, what: string): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(100);
  }
}
const ls = async (d: string) => { try { return (await fs.promises.readdir(d)).sort(); } catch (e) { return (e as NodeJS.ErrnoException).code ?? 'error'; } };
const switches = (m: Mount) => grep(m.logText(), /fuse_graph_sync\] 0-fuse: switched to graph/).length;
const count = (list: string[], name: string) => list.filter((x) => x === name).length;
const ourFilters = (gd: Glusterd) => {
  let names: string[] = [];
  try { names = fs.readdirSync(filterDir()); } catch { /* no dir */ }
  return names.filter((n) => fs.readFileSync(path.join(filterDir(), n), 'utf8').includes(gd.workdir));
};

// under the sanitizers (npm run test:asan) every daemon is several times slower
describe('with a private glusterd', { timeout: process.env.GLUJS_SANITIZED === '1' ? 1_800_000 : 240_000 }, () => {
  let gd: Glusterd;
  const filterArgs = () => ['--glusterd-sock', gd.sock];
  const varLib = snapshot('/var/lib/glusterd');
  before(async () => { gd = await startGlusterd(); });
  after(async () => {
    if (!gd) return;
    // no filter of ours may outlive the tests, whatever happened
    for (const n of ourFilters(gd)) fs.rmSync(path.join(filterDir(), n), { force: true });
    const workdir = gd.workdir;
    await gd.stop();
    assert.equal(fs.existsSync(workdir), false);
    assert.deepEqual(snapshot('/var/lib/glusterd'), varLib, '/var/lib/glusterd is as it was');
  });

  test('filter install: a module that relies on upcall is warned about, or --enable-upcall turns it on; the instance says so', async () => {
    const vol = await gd.createVolume('gju');
    const optionOf = () => Volfile.parse(fs.readFileSync(vol.clientVolfile, 'utf8'), vol.clientVolfile).need('gju-glujs').options
      .filter((o) => o.key === 'upcall-bricks').map((o) => o.value);
    try {
      const r = await glujs(['filter', 'install', '--volume', 'gju', '--module', example('nlc.ts'), ...filterArgs(), ...typeArgs()], { env: gd.env });
      assert.equal(r.code, 0, r.err + r.out);
      assert.match(r.err, /warning: nlc\.ts relies on upcall, but features\.cache-invalidation is off on gju: .*--enable-upcall/);
      assert.deepEqual(optionOf(), ['off'], 'the filter tells the instance that the bricks send no upcall');
      const m = await vol.mount();
      assert.match(m.logText(), /0-gju-glujs: nlc\.ts relies on upcall, but the bricks of this volume send no cache invalidations/);
      await m.unmount();

      const r2 = await glujs(['filter', 'install', '--volume', 'gju', '--module', example('nlc.ts'), '--enable-upcall', ...filterArgs(), ...typeArgs()], { env: gd.env });
      assert.equal(r2.code, 0, r2.err + r2.out);
      assert.match(r2.out, /gluster volume set gju features\.cache-invalidation on \(--enable-upcall/);
      assert.doesNotMatch(r2.err, /relies on upcall/);
      assert.match((await gd.gluster(['volume', 'get', 'gju', 'features.cache-invalidation'])).out, /features\.cache-invalidation\s+on/);
      await until(() => optionOf()[0] === 'on', 10_000, 'upcall-bricks on in the client volfile');
      const m2 = await vol.mount();
      assert.match(m2.logText(), /0-gju-glujs: loaded translator module/);
      assert.doesNotMatch(m2.logText(), /relies on upcall/);
      await m2.unmount();

      // a module that declares nothing gets no such option and no warning
      const r3 = await glujs(['filter', 'install', '--volume', 'gju', '--module', example('hide.ts'), ...filterArgs(), ...typeArgs()], { env: gd.env });
      assert.equal(r3.code, 0, r3.err + r3.out);
      assert.doesNotMatch(r3.err, /upcall/);
      await until(() => optionOf().length === 0, 10_000, 'no upcall-bricks option');
    } finally {
      await glujs(['filter', 'uninstall', '--volume', 'gju', ...filterArgs()], { env: gd.env });
    }
  });

  test('client graph: filter install -> the live mount switches to a graph with glujs; uninstall -> back', async (t) => {
    const vol = await gd.createVolume('gjf');
    const m = await vol.mount();
    await fs.promises.mkdir(path.join(m.dir, 'd'));
    for (const n of ['plain', 'secret1']) await fs.promises.writeFile(path.join(m.dir, 'd', n), n);
    assert.deepEqual(await ls(path.join(m.dir, 'd')), ['plain', 'secret1']);
    assert.equal(grep(fs.readFileSync(vol.clientVolfile, 'utf8'), 'features/glujs').length, 0);
    const before0 = switches(m);

    // bad input first: exit 2, nothing installed
    const bad1 = await glujs(['filter', 'install', '--volume', 'nosuchvol', '--module', example('hide.ts'), ...filterArgs(), ...typeArgs()], { env: gd.env });
    assert.equal(bad1.code, 2, bad1.err);
    assert.match(bad1.err, /glusterd has no volume 'nosuchvol'/);
    const bad2 = await glujs(['filter', 'install', '--volume', 'gjf', '--module', '/nonexistent.ts', ...filterArgs(), ...typeArgs()], { env: gd.env });
    assert.equal(bad2.code, 2, bad2.err);
    assert.match(bad2.err, /module file \/nonexistent\.ts does not exist/);
    const bad3 = await glujs(['filter', 'install', '--volume', 'gjf', '--module', example('hide.ts'), '--below', 'nope', ...filterArgs(), ...typeArgs()], { env: gd.env });
    assert.equal(bad3.code, 2, bad3.err);
    assert.match(bad3.err, /no volume named 'nope'/);
    const bad4 = await glujs(['filter', 'install', '--volume', 'gjf', '--module', example('hide.ts'), '--type', 'features/nosuch', ...filterArgs()], { env: gd.env });
    assert.equal(bad4.code, 2, bad4.err);
    assert.match(bad4.err, /--type "features\/nosuch": no such xlator in \/usr\/lib/);
    assert.deepEqual(ourFilters(gd), []);

    const installed = Date.now();
    try {
      const r = await glujs(['filter', 'install', '--volume', 'gjf', '--module', example('hide.ts'), '--option', 'prefix=secret', ...filterArgs(), ...typeArgs()], { env: gd.env });
      assert.equal(r.code, 0, r.err + r.out);
      assert.match(r.out, /regenerated the volfiles: gluster volume set gjf diagnostics\.client-log-level INFO && gluster volume reset gjf diagnostics\.client-log-level/);
      t.diagnostic(`filter install took ${Date.now() - installed} ms`);
      assert.equal(ourFilters(gd).length, 1);
      const list = await glujs(['filter', 'list']);
      assert.match(list.out, new RegExp(`glusterd-dir ${gd.workdir}[^\\n]*\\n  gjf: gjf-glujs module ${example('hide.ts')} prefix=secret below the io-stats volume gjf`));

      // both FUSE volfiles carry it, below io-stats; the others do not
      for (const f of [vol.clientVolfile, vol.plainClientVolfile]) {
        const vf = Volfile.parse(fs.readFileSync(f, 'utf8'), f);
        assert.deepEqual(vf.need('gjf').subvolumes, ['gjf-glujs'], f);
        assert.equal(vf.need('gjf-glujs').type, GLUJS_TYPE);
      }
      for (const f of vol.brickVolfiles()) assert.equal(grep(fs.readFileSync(f, 'utf8'), GLUJS_TYPE).length, 0, f);
      // idempotent: running the installed filter again changes nothing
      const text = fs.readFileSync(vol.clientVolfile, 'utf8');
      const script = path.join(filterDir(), ourFilters(gd)[0]);
      await new Promise<void>((resolve, reject) => execFile(script, [vol.clientVolfile], (e) => (e ? reject(e) : resolve())));
      assert.equal(fs.readFileSync(vol.clientVolfile, 'utf8'), text);
      assert.equal(grep(text, `type ${GLUJS_TYPE}`).length, 1);

      // the live mount switches graph and hides secret1
      await untilAsync(async () => {
        const l = await ls(path.join(m.dir, 'd'));
        return Array.isArray(l) && l.join() === 'plain';
      }, 15000, 'the mount to hide secret1 (graph switch to glujs)');
      assert.ok(switches(m) > before0, 'a graph switch happened');
      assert.match(m.logText(), /\] I \[[^\]]*\] \d+-gjf-glujs: loaded translator module .*hide\.ts/);
      assert.equal(errCode(() => fs.statSync(path.join(m.dir, 'd', 'secret1'))), 'ENOENT');
      assert.equal(fs.readFileSync(path.join(m.dir, 'd', 'plain'), 'utf8'), 'plain');
      t.diagnostic(`glujs active in the mount ${Date.now() - installed} ms after filter install; threads ${m.threads().length}, glujs-js ${count(m.threads(), 'glujs-js')}`);

      // install again with another module: only an option changes, so the mount reconfigures
      // (no graph switch) and glujs hot-reloads the new module
      const mods = fs.mkdtempSync(path.join(os.tmpdir(), 'glujs-mods-'));
      t.after(() => fs.rmSync(mods, { recursive: true, force: true }));
      const hidePlain = path.join(mods, 'hide-plain.ts');
      fs.writeFileSync(hidePlain, fs.readFileSync(example('hide.ts'), 'utf8').replace('String(this.options.prefix)', "'plain'"));
      const sw = switches(m);
      const again = await glujs(['filter', 'install', '--volume', 'gjf', '--module', hidePlain, '--option', 'prefix=secret', ...filterArgs(), ...typeArgs()], { env: gd.env });
      assert.equal(again.code, 0, again.err + again.out);
      await until(() => grep(m.logText(), /\d+-gjf-glujs: reloaded translator module .*hide-plain\.ts/).length === 1, 10000, 'the reload in the mount');
      await untilAsync(async () => (await ls(path.join(m.dir, 'd'))).toString() === 'secret1', 5000, 'hide-plain.ts to hide "plain"');
      assert.equal(switches(m), sw, 'no graph switch for a module change');

      await t.test('a module with other options replaces the running one on reconfigure', async () => {
        const r2 = await glujs(['filter', 'install', '--volume', 'gjf', '--module', example('deny.ts'), '--option', 'name=forbidden', ...filterArgs(), ...typeArgs()], { env: gd.env });
        assert.equal(r2.code, 0, r2.err + r2.out);
        await until(() => grep(m.logText(), /gjf-glujs: (re)?loaded translator module .*deny\.ts|cannot reload translator module .*deny\.ts/).length > 0, 10000, 'a reload attempt');
        assert.doesNotMatch(m.logText(), /cannot reload translator module .*deny\.ts: TypeError: unknown option 'prefix'/);
      });
    } finally {
      const u = await glujs(['filter', 'uninstall', '--volume', 'gjf', ...filterArgs()], { env: gd.env });
      assert.equal(u.code, 0, u.err + u.out);
    }
    assert.deepEqual(ourFilters(gd), []);
    assert.equal(grep(fs.readFileSync(vol.clientVolfile, 'utf8'), GLUJS_TYPE).length, 0);
    const switchedBack = switches(m);
    await untilAsync(async () => {
      const l = await ls(path.join(m.dir, 'd'));
      return Array.isArray(l) && l.join() === 'plain,secret1';
    }, 15000, 'secret1 to reappear (graph switch back)');
    await until(() => grep(m.logText(), /\d+-gjf-glujs: parent down: releasing the JS environment/).length === 1, 10000, 'the old graph to release its JS environment');
    assert.ok(switches(m) >= switchedBack);
    assert.ok(alive(m.pid));
    await m.unmount();
  });

  test('glujs volfile --getspec from glusterd', async () => {
    const vol = await gd.createVolume('gjg');
    const r = await glujs(['volfile', '--getspec', 'gjg', '--glusterd-sock', gd.sock, '--module', example('deny.ts'), '--option', 'name=x'], { env: gd.env });
    assert.equal(r.code, 0, r.err);
    const vf = Volfile.parse(r.out);
    assert.deepEqual(vf.need('gjg').subvolumes, ['gjg-glujs']);
    assert.deepEqual(vf.need('gjg-glujs').options.map((o) => o.key), ['module', 'name']);
    // the same text glusterd serves, plus the block
    assert.equal(vf.remove('gjg-glujs').toString(), fs.readFileSync(vol.clientVolfile, 'utf8'));
    // over TCP (gluster --remote-host), to a file: private, since a trusted volfile carries credentials
    const out = path.join(gd.dir, 'gjg-glujs.vol');
    const tcp = await glujs(['volfile', '--getspec', 'gjg', '--server', '127.0.0.1', '--module', example('deny.ts'), '--below', 'gjg-dht', '-o', out], { env: gd.env });
    assert.equal(tcp.code, 0, tcp.err);
    assert.match(tcp.err, /gjg-dht -> gjg-glujs -> gjg-client-0/);
    assert.equal(fs.statSync(out).mode & 0o777, 0o600);
    const bad = await glujs(['volfile', '--getspec', 'nosuch', '--glusterd-sock', gd.sock, '--module', example('deny.ts')], { env: gd.env });
    assert.equal(bad.code, 2, bad.err);
    assert.match(bad.err, /glusterd has no volume 'nosuch'/);
    const down = await glujs(['volfile', '--getspec', 'gjg', '--glusterd-sock', path.join(gd.dir, 'no.sock'), '--module', example('deny.ts')], { env: gd.env });
    assert.equal(down.code, 1);
    assert.match(down.err, /cannot reach glusterd/);
  });

  test(`brick graph: user.xlator.${UX} via volume set; module change hot-reloads in the running brick; removal`, async (t) => {
    const vol = await gd.createVolume('gjb');
    const brick = vol.brickDirs[0];
    fs.mkdirSync(path.join(brick, 'd'));
    for (const n of ['shown', 'hidden-a']) fs.writeFileSync(path.join(brick, 'd', n), n);

    await vol.set(`user.xlator.${UX}.module`, example('hide.ts'));
    await vol.set(`user.xlator.${UX}.prefix`, 'hidden');
    const pos = await vol.set(`user.xlator.${UX}`, 'io-threads');
    assert.match(pos.out, new RegExp(`user\\.xlator\\.${UX} translator has been added to the server volume file\\. Please restart the volume`));
    const bvf = Volfile.parse(fs.readFileSync(vol.brickVolfiles()[0], 'utf8'));
    assert.equal(bvf.need(`gjb-${UX}`).type, `user/${UX}`);
    assert.deepEqual(bvf.need(`gjb-${UX}`).subvolumes, ['gjb-io-threads'], 'directly above io-threads');
    assert.deepEqual(bvf.parentsOf(`gjb-${UX}`).map((v) => v.name), ['gjb-selinux']);
    assert.deepEqual(bvf.need(`gjb-${UX}`).options, [{ key: 'module', value: example('hide.ts') }, { key: 'prefix', value: 'hidden' }]);
    // a wrong position is refused
    const wrong = await gd.gluster(['volume', 'set', 'gjb', `user.xlator.${UX}`, 'nowhere'], { check: false });
    assert.notEqual(wrong.code, 0);

    // the running brick cannot switch to a graph with a new xlator (its listener is taken): restart the volume
    await vol.restart();
    const pid1 = vol.brickPids()[0];
    assert.match(vol.brickLog(), new RegExp(`0-gjb-${UX}: loaded translator module .*hide\\.ts`));
    const m = await vol.mount();
    const d = path.join(m.dir, 'd');
    await untilAsync(async () => (await ls(d)).toString() === 'shown', 10000, 'hidden-a hidden by the brick');
    assert.equal(errCode(() => fs.statSync(path.join(d, 'hidden-a'))), 'ENOENT');

    // a new module by volume set: reconfigure reloads it in the same brick process
    const mods = fs.mkdtempSync(path.join(os.tmpdir(), 'glujs-mods-'));
    t.after(() => fs.rmSync(mods, { recursive: true, force: true }));
    const hideShown = path.join(mods, 'hide-shown.ts');
    fs.writeFileSync(hideShown, fs.readFileSync(example('hide.ts'), 'utf8').replace("String(this.options.prefix)", "'shown'"));
    await vol.set(`user.xlator.${UX}.module`, hideShown);
    await until(() => grep(vol.brickLog(), new RegExp(`0-gjb-${UX}: reloaded translator module .*hide-shown\\.ts`)).length === 1, 10000, 'the reload in the brick');
    assert.equal(vol.brickPids()[0], pid1, 'same brick process');
    await untilAsync(async () => (await ls(d)).toString() === 'hidden-a', 10000, 'the new module to hide "shown" instead');

    await t.test('a changed module option reaches the module on reconfigure', async () => {
      await vol.set(`user.xlator.${UX}.prefix`, 'shown');
      await vol.set(`user.xlator.${UX}.module`, example('hide.ts'));
      await until(() => grep(vol.brickLog(), new RegExp(`0-gjb-${UX}: reloaded translator module .*examples/hide\\.ts`)).length === 1, 10000, 'reload');
      await sleep(1200);
      assert.deepEqual(await ls(d), ['hidden-a'], 'prefix=shown: "shown" hidden, "hidden-a" visible');
      // glujs's own options that an instance takes at start reach the new one too
      await vol.set(`user.xlator.${UX}.watchdog`, '7');
      await until(() => grep(vol.brickLog(), new RegExp(`0-gjb-${UX}: reloaded translator module .*examples/hide\\.ts \\(watchdog 7s\\)`)).length === 1, 10000, 'a reload with watchdog 7');
    });

    // removal: 10.3 refuses to reset one user.* key; `volume reset V` (all options) works
    const one = await gd.gluster(['volume', 'reset', 'gjb', `user.xlator.${UX}`], { check: false });
    assert.notEqual(one.code, 0);
    assert.match(one.out + one.err, new RegExp(`Option user\\.xlator\\.${UX} does not exist`));
    await vol.reset();
    assert.equal(grep(fs.readFileSync(vol.brickVolfiles()[0], 'utf8'), `user/${UX}`).length, 0);
    await vol.restart();
    assert.notEqual(vol.brickPids()[0], pid1);
    await untilAsync(async () => (await ls(d)).toString() === 'hidden-a,shown', 15000, 'both names after the removal');
    await m.unmount();
  });

  test('20 graph switches under load: the mount keeps working, old environments are released', async (t) => {
    const vol = await gd.createVolume('gjs');
    fs.mkdirSync(path.join(vol.brickDirs[0], 'd'));
    fs.writeFileSync(path.join(vol.brickDirs[0], 'd', 'secret-x'), 'x');
    const m = await vol.mount();
    const d = path.join(m.dir, 'd');
    let load: ReturnType<typeof spawn> | undefined;
    let installed = false;
    let flip = 0;
    /** One graph switch: toggle a client xlator (a topology change), wait for FUSE to switch. */
    const graphSwitch = async (what: string) => {
      const before = switches(m);
      await vol.set('performance.quick-read', flip++ % 2 ? 'on' : 'off');
      await until(() => switches(m) > before, process.env.GLUJS_SANITIZED === '1' ? 60000 : 20000, what);
      const l = await ls(d);
      assert.ok(Array.isArray(l) && l.includes('f0') && (!installed || !l.includes('secret-x')), `after ${what}: ${l}`);
      const th = m.threads();
      return { js: count(th, 'glujs-js'), timers: count(th, 'glujs-timer'), threads: th.length, rss: m.rssKb() };
    };
    try {
      // the load: a child process writing, reading back, stat-ing and listing in a loop
      load = spawn(process.execPath, ['-e', LOAD, d], { stdio: ['ignore', 'pipe', 'inherit'] });
      let report = '';
      load.stdout!.on('data', (b) => { report += b; });
      await sleep(1000);

      // control: the same switches without glujs, for GlusterFS's own cost of a graph switch
      const C = 10;
      const c0 = { threads: m.threads().length, rss: m.rssKb() };
      const control = [];
      const tc = Date.now();
      for (let i = 1; i <= C; i++) control.push(await graphSwitch(`control switch ${i}`));
      const controlMs = Date.now() - tc;

      const r = await glujs(['filter', 'install', '--volume', 'gjs', '--module', example('hide.ts'), '--option', 'prefix=secret', ...filterArgs(), ...typeArgs()], { env: gd.env });
      assert.equal(r.code, 0, r.err + r.out);
      installed = true;
      await untilAsync(async () => !(await ls(d)).includes('secret-x') && grep(m.logText(), /gjs-glujs: loaded translator module/).length === 1, 15000, 'glujs in the mount');
      load.kill('SIGUSR2'); // from now on the hidden name must never show
      await sleep(500);
      const first = { threads: m.threads(), rss: m.rssKb() };

      const samples = [];
      const t0 = Date.now();
      const N = 20;
      for (let i = 1; i <= N; i++) samples.push(await graphSwitch(`graph switch ${i}`));
      const took = Date.now() - t0;
      await sleep(2000); // let the last old environment go
      const th = m.threads();
      const last = { js: count(th, 'glujs-js'), timers: count(th, 'glujs-timer'), threads: th.length, rss: m.rssKb() };
      load.kill('SIGTERM');
      await new Promise((res) => load!.once('exit', res));
      const lines = report.trim().split('\n');
      const stats = JSON.parse(lines[lines.length - 1]) as { ops: number; errors: Record<string, number>; mismatches: number; leaks: number; controlMismatches: number; seen: unknown[] };

      const log = m.logText();
      const loaded = grep(log, /gjs-glujs: loaded translator module/).length;
      const released = grep(log, /gjs-glujs: parent down: releasing the JS environment/).length;
      const mb = (kb: number) => (kb / 1024).toFixed(1);
      const perSwitch = (a: number, b: number, n: number) => ((b - a) / 1024 / n).toFixed(2);
      const cLast = control[control.length - 1];
      t.diagnostic(`control, no glujs: ${C} switches in ${controlMs} ms; threads ${c0.threads} -> ${cLast.threads}; ` +
        `rss ${mb(c0.rss)} -> ${mb(cLast.rss)} MB (${perSwitch(c0.rss, cLast.rss, C)} MB/switch)`);
      t.diagnostic(`with glujs: ${N} switches in ${took} ms (${Math.round(took / N)} ms each); load: ${stats.ops} ops, errors ${JSON.stringify(stats.errors)}, ` +
        `read-back mismatches ${stats.mismatches} (control phase: ${stats.controlMismatches}) ${JSON.stringify(stats.seen)}, hidden-name leaks ${stats.leaks}`);
      t.diagnostic(`with one glujs: ${first.threads.length} threads (glujs-js ${count(first.threads, 'glujs-js')}, glujs-timer ${count(first.threads, 'glujs-timer')}), ${mb(first.rss)} MB`);
      t.diagnostic(`after each switch: glujs-js ${samples.map((x) => x.js).join(',')}; glujs-timer ${samples.map((x) => x.timers).join(',')}; ` +
        `threads ${samples.map((x) => x.threads).join(',')}; rss MB ${samples.map((x) => Math.round(x.rss / 1024)).join(',')}`);
      t.diagnostic(`settled: glujs-js ${last.js}, glujs-timer ${last.timers}, threads ${last.threads}, rss ${mb(last.rss)} MB ` +
        `(${perSwitch(first.rss, last.rss, N)} MB/switch); instances loaded ${loaded}, released ${released}`);

      assert.ok(alive(m.pid), 'the client is alive (not a zombie)');
      assert.equal(loaded, N + 1);
      assert.equal(released, N, 'every old graph released its environment on PARENT_DOWN');
      assert.ok(stats.ops > 100, `the load ran (${stats.ops} ops)`);
      assert.deepEqual(stats.errors, {}, 'no I/O error in the load loop');
      assert.equal(stats.mismatches + stats.controlMismatches, 0, `a read-back differed from the write before it: ${JSON.stringify(stats.seen)}`);
      assert.equal(stats.leaks, 0, 'the hidden name never showed');
      const js0 = count(first.threads, 'glujs-js');
      assert.ok(Math.max(...samples.map((x) => x.js)) <= js0 + 2, `glujs-js threads bounded (${js0} with one instance)`);
      assert.ok(last.js <= js0, `glujs-js threads back to ${js0} after settling (${last.js})`);
      assert.ok(last.threads - last.timers <= first.threads.length - count(first.threads, 'glujs-timer') + 2,
        'no other thread accumulates');
      assert.ok(last.rss - first.rss < 200 * 1024, `RSS bounded: ${first.rss} -> ${last.rss} kB`);
      await t.test('glujs-timer threads bounded', () => {
        assert.ok(last.timers <= 2, `glujs-timer threads: ${count(first.threads, 'glujs-timer')} -> ${last.timers}`);
      });
    } finally {
      if (load && load.exitCode === null) load.kill('SIGKILL');
      const u = await glujs(['filter', 'uninstall', '--volume', 'gjs', ...filterArgs()], { env: gd.env });
      assert.equal(u.code, 0, u.err + u.out);
    }
    await m.unmount();
  });

  test('the kernel tier across graph switches: what the kernel holds through an old graph is forgotten', async () => {
    // km lets the kernel cache lookups for 600 s; m is a plain mount for the changes
    const vol = await gd.createVolume('gjk');
    await vol.set('features.cache-invalidation', 'on');
    const m = await vol.mount();
    const km = await vol.mount(['--negative-timeout=600', '--entry-timeout=600']);
    const gone = (p: string) => errCode(() => fs.statSync(p)) === 'ENOENT';
    try {
      await fs.promises.mkdir(path.join(m.dir, 'd'));
      for (const n of ['plain', 'secret1']) await fs.promises.writeFile(path.join(m.dir, 'd', n), n);
      assert.ok(!gone(path.join(km.dir, 'd'))); // the kernel knows d by the first graph's inode now
      const sw0 = switches(km);
      const r = await glujs(['filter', 'install', '--volume', 'gjk', '--module', example('hide.ts'), '--option', 'prefix=secret', ...filterArgs(), ...typeArgs()], { env: gd.env });
      assert.equal(r.code, 0, r.err + r.out);
      await until(() => (gone(path.join(km.dir, 'd', 'secret0')), switches(km) > sw0), 20000, 'km to switch to the graph with glujs');
      assert.match(km.logText(), /\d+-gjk-glujs: kernel tier on/);
      // through the new graph: hidden, and a miss; the kernel holds both, under d's old nodeid
      assert.ok(gone(path.join(km.dir, 'd', 'secret1')) && gone(path.join(km.dir, 'd', 'secret1')), 'secret1 hidden');
      assert.ok(gone(path.join(km.dir, 'd', 'later')) && gone(path.join(km.dir, 'd', 'later')));
      await fs.promises.writeFile(path.join(m.dir, 'd', 'later'), 'x');
      await until(() => !gone(path.join(km.dir, 'd', 'later')), 1000, "the other mount's create to be seen through the new graph (upcall)");
      const sw1 = switches(km);
      const u = await glujs(['filter', 'uninstall', '--volume', 'gjk', ...filterArgs()], { env: gd.env });
      assert.equal(u.code, 0, u.err + u.out);
      await until(() => (gone(path.join(km.dir, 'd', 'secret0')), switches(km) > sw1), 20000, 'km to switch back to a graph without glujs');
      await until(() => !gone(path.join(km.dir, 'd', 'secret1')), 2000, 'secret1 to reappear: the old graph invalidated what it had answered');
      assert.match(km.logText(), /gjk-glujs: kernel tier: parent down \(graph switch\): invalidating the \d+ names/);
    } finally {
      await km.unmount();
      await m.unmount();
    }
  });
});

/** The load loop (a separate process, so the test's own loop stays free): write, read back,
 * stat and list in directory argv[1]; the last stdout line is a JSON summary. */
const LOAD = `
const fs = require('fs'), path = require('path'), crypto = require('crypto');
const dir = process.argv[1];
const s = { ops: 0, errors: {}, mismatches: 0, leaks: 0, controlMismatches: 0, seen: [] };
const prev = new Map();
let stop = false, watch = false;
process.on('SIGTERM', () => { stop = true; });
process.on('SIGUSR2', () => { watch = true; });
(async () => {
  for (let i = 0; !stop; i++) {
    const f = path.join(dir, 'f' + (i % 8));
    const data = crypto.randomBytes(4096 + (i % 7) * 1000);
    for (const step of [
      () => fs.promises.writeFile(f, data),
      async () => {
        const b = await fs.promises.readFile(f), before = prev.get(f);
        prev.set(f, data);
        if (b.equals(data)) return;
        if (watch) s.mismatches++; else s.controlMismatches++;
        // what came back: the file's previous content (a stale cache) or something else
        const kind = before && b.equals(before) ? 'previous content' : 'other bytes';
        if (s.seen.length < 5) s.seen.push({ phase: watch ? 'glujs' : 'control', at: new Date().toISOString(), wrote: data.length, read: b.length, kind });
      },
      () => fs.promises.stat(f),
      async () => { const l = await fs.promises.readdir(dir); if (watch && l.includes('secret-x')) s.leaks++; },
      async () => { if (i % 5 === 0) { await fs.promises.appendFile(f + '.log', 'x'); } },
    ]) {
      try { await step(); s.ops++; } catch (e) { s.errors[e.code || String(e)] = (s.errors[e.code || String(e)] || 0) + 1; }
    }
  }
  process.stdout.write(JSON.stringify(s) + '\\n');
})();
`;
