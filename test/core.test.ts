// glujs core on a real brick and FUSE mount: examples, handlers that change
// what GlusterFS sees, the module loaded into a brick, and bad input.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { withVolume, tryStartVolume } from '../lib/testing';
import { fixture, example, glujs, grep, until, errCode, alive, readTree } from './util';

test('examples/hello.ts logs each lookup and its reply', async (t) => {
  const v = await withVolume(t, { client: [glujs('hello', example('hello.ts'))] });
  fs.mkdirSync(path.join(v.mount, 'dir'));
  assert.equal(errCode(() => fs.statSync(path.join(v.mount, 'dir', 'missing'))), 'ENOENT');
  const lines = await until(() => {
    const l = grep(v.log(0), '0-hello: lookup /dir/missing');
    return l.length >= 2 ? l : undefined;
  }, 5000, 'hello log lines');
  assert.ok(lines.some((l) => l.endsWith('lookup /dir/missing')), lines.join('\n'));
  assert.ok(lines.some((l) => l.endsWith('lookup /dir/missing -> -1/2')), lines.join('\n'));
});

test('examples/trace.ts logs one line per fop and per reply', async (t) => {
  const v = await withVolume(t, { client: [glujs('trace', example('trace.ts'))] });
  const f = path.join(v.mount, 'traced');
  fs.writeFileSync(f, 'hello trace');
  assert.equal(fs.readFileSync(f, 'utf8'), 'hello trace');
  fs.renameSync(f, f + '2');
  const log = await until(() => {
    const l = v.log(0);
    return /#\d+ rename\(/.test(l) && /#\d+ rename -> 0/.test(l) ? l : undefined;
  }, 5000, 'trace of rename');
  for (const fop of ['lookup', 'create', 'writev', 'flush', 'rename']) {
    assert.match(log, new RegExp(`0-trace: #(\\d+) ${fop}\\(`), `${fop} call traced`);
    assert.match(log, new RegExp(`0-trace: #(\\d+) ${fop} -> `), `${fop} reply traced`);
  }
  assert.match(log, /#\d+ writev\(fd=gfid:\w+ data=<11 bytes> offset=0/);
  assert.match(log, /#\d+ create -> 0 fd=gfid:\w{8} inode=gfid:\w{8} buf=\(100\d{3} 0b\)/);
});

test('a translator hides names from lookup and from readdirp listings', async (t) => {
  const v = await withVolume(t, { client: [glujs('hide', example('hide.ts'), { prefix: 'secret' })] });
  fs.mkdirSync(path.join(v.brickDir, 'd'));
  for (const n of ['a', 'secret1', 'b', 'secret-2']) fs.writeFileSync(path.join(v.brickDir, 'd', n), n);
  await until(() => fs.existsSync(path.join(v.mount, 'd')), 3000, 'dir visible');
  assert.deepEqual(fs.readdirSync(path.join(v.mount, 'd')).sort(), ['a', 'b']);
  assert.equal(errCode(() => fs.statSync(path.join(v.mount, 'd', 'secret1'))), 'ENOENT');
  assert.equal(fs.readFileSync(path.join(v.mount, 'd', 'a'), 'utf8'), 'a');
  // the brick still has them
  assert.deepEqual(fs.readdirSync(path.join(v.brickDir, 'd')).sort(), ['a', 'b', 'secret-2', 'secret1']);
});

test('a translator that changes writev data: visible on read-back and in the brick', async (t) => {
  const v = await withVolume(t, { client: [glujs('upper', example('upper.ts'))] });
  const f = path.join(v.mount, 'shout.txt');
  fs.writeFileSync(f, 'quiet words, 123!');
  assert.equal(fs.readFileSync(f, 'utf8'), 'QUIET WORDS, 123!');
  assert.equal(fs.readFileSync(path.join(v.brickDir, 'shout.txt'), 'utf8'), 'QUIET WORDS, 123!');
});

test('a translator fails create with EACCES', async (t) => {
  const v = await withVolume(t, { client: [glujs('deny', example('deny.ts'), { name: 'forbidden' })] });
  assert.equal(errCode(() => fs.writeFileSync(path.join(v.mount, 'forbidden'), 'x')), 'EACCES');
  assert.equal(fs.existsSync(path.join(v.brickDir, 'forbidden')), false);
  fs.writeFileSync(path.join(v.mount, 'allowed'), 'y');
  assert.equal(fs.readFileSync(path.join(v.brickDir, 'allowed'), 'utf8'), 'y');
});

test('a pass-through of every fop: 64 MiB at random offsets reads back identical', async (t) => {
  const v = await withVolume(t, { client: [glujs('pass', fixture('passthru.ts'))] });
  const size = 64 << 20, chunk = 128 << 10;
  const f = path.join(v.mount, 'big.bin');
  const expect = Buffer.alloc(size);
  const fd = fs.openSync(f, 'w+');
  try {
    // every chunk once, in a random order, with random contents
    const order = [...Array(size / chunk).keys()].sort(() => Math.random() - 0.5);
    for (const i of order) {
      const b = crypto.randomBytes(chunk);
      b.copy(expect, i * chunk);
      fs.writeSync(fd, b, 0, chunk, i * chunk);
    }
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  const sha = (b: Buffer) => crypto.createHash('sha256').update(b).digest('hex');
  assert.equal(sha(fs.readFileSync(f)), sha(expect), 'read back through glujs');
  assert.equal(sha(fs.readFileSync(path.join(v.brickDir, 'big.bin'))), sha(expect), 'on the brick');
});

test('a pass-through of every fop: a tree with renames, links, symlinks and xattrs matches the brick', async (t) => {
  const v = await withVolume(t, { client: [glujs('pass', fixture('passthru.ts'))] });
  const m = v.mount;
  const { execFileSync } = await import('node:child_process');
  for (let d = 0; d < 10; d++) {
    fs.mkdirSync(path.join(m, `d${d}`));
    for (let i = 0; i < 25; i++) fs.writeFileSync(path.join(m, `d${d}`, `f${i}`), `file ${d}/${i}\n`.repeat(i + 1));
  }
  for (let d = 0; d < 10; d++) {
    fs.renameSync(path.join(m, `d${d}`, 'f0'), path.join(m, `d${(d + 1) % 10}`, `moved-from-${d}`));
    fs.linkSync(path.join(m, `d${d}`, 'f1'), path.join(m, `d${d}`, 'hard1'));
    fs.symlinkSync(`../d${d}/f2`, path.join(m, `d${d}`, 'sym2'));
    fs.chmodSync(path.join(m, `d${d}`, 'f3'), 0o600);
    fs.truncateSync(path.join(m, `d${d}`, 'f4'), 3);
    fs.unlinkSync(path.join(m, `d${d}`, 'f5'));
    execFileSync('setfattr', ['-n', 'user.glujs', '-v', `v${d}`, path.join(m, `d${d}`, 'f6')]);
  }
  fs.renameSync(path.join(m, 'd9'), path.join(m, 'd9-renamed'));
  fs.rmSync(path.join(m, 'd8'), { recursive: true });
  const mountTree = readTree(m), brickTree = readTree(v.brickDir);
  assert.ok(mountTree.size > 200, `tree has ${mountTree.size} entries`);
  assert.deepEqual([...mountTree], [...brickTree]);
  for (let d = 0; d < 8; d++) {
    const x = execFileSync('getfattr', ['--only-values', '-n', 'user.glujs', path.join(m, `d${d}`, 'f6')], { encoding: 'utf8' });
    assert.equal(x, `v${d}`);
  }
  assert.equal(fs.statSync(path.join(m, 'd3', 'hard1')).nlink, 2);
  assert.equal(fs.statSync(path.join(v.brickDir, 'd3', 'hard1')).ino, fs.statSync(path.join(v.brickDir, 'd3', 'f1')).ino);
  assert.equal(fs.readlinkSync(path.join(m, 'd3', 'sym2')), '../d3/f2');
  assert.equal(fs.readFileSync(path.join(m, 'd3', 'sym2'), 'utf8'), 'file 3/2\n'.repeat(3));
});

test('the same module loaded into a brick process (server graph) works', async (t) => {
  const v = await withVolume(t, { brick: [glujs('hide-brick', example('hide.ts'), { prefix: 'hidden' })] });
  fs.mkdirSync(path.join(v.brickDir, 'd'));
  for (const n of ['shown', 'hidden-a']) fs.writeFileSync(path.join(v.brickDir, 'd', n), n);
  await until(() => fs.existsSync(path.join(v.mount, 'd')), 3000, 'dir visible');
  assert.deepEqual(fs.readdirSync(path.join(v.mount, 'd')), ['shown']);
  assert.equal(errCode(() => fs.statSync(path.join(v.mount, 'd', 'hidden-a'))), 'ENOENT');
  assert.match(v.log('brick'), /0-hide-brick: loaded translator module .*hide\.ts/);
});

test('CommonJS and ESM modules load too', async (t) => {
  const v = await withVolume(t, {
    client: [glujs('cjs', fixture('common.cjs')), glujs('esm', fixture('strict-options.mjs'), { level: 2 })],
  });
  assert.equal(errCode(() => fs.statSync(path.join(v.mount, 'nothing-here'))), 'ENOENT');
  await until(() => grep(v.log(0), '0-cjs: cjs lookup nothing-here -1').length > 0, 3000, 'cjs log line');
});

for (const [what, module, options, why] of [
  ['a missing module', '/nonexistent/translator.ts', {}, /cannot load translator module \/nonexistent\/translator\.ts: .*no such file/],
  ['no module option', '', {}, /0-bad: option module is required: the path of the translator module/],
  // GlusterFS validates glujs's own options against its table before init
  ['a malformed handler-timeout', fixture('passthru.ts'), { 'handler-timeout': 'soon' }, /0-bad: validation failed: invalid time format "soon" in "option handler-timeout"/],
  ['an out-of-range max-pending', fixture('passthru.ts'), { 'max-pending': -5 }, /0-bad: validation failed: '-5' in 'option max-pending -5' is out of range/],
  ['a syntax error', fixture('syntax-error.ts'), {}, /cannot load translator module .*syntax-error\.ts: SyntaxError: .*syntax-error\.ts:3:\d+: /],
  ['a constructor that throws', fixture('ctor-throws.ts'), {}, /cannot load translator module .*: Error: constructor refuses to start/],
  ['an unknown option', fixture('strict-options.mjs'), { levle: 3 }, /cannot load translator module .*unknown option 'levle' for strict-options\.mjs \(known: level/],
] as const) {
  test(`bad input: ${what} fails the mount cleanly and the log says why`, async () => {
    const spec = glujs('bad', module, options as Record<string, string>);
    if (!module) delete spec.options!.module;
    const r = await tryStartVolume({ client: [spec] });
    if (r.ok) {
      await r.volume.stop();
      assert.fail('the mount came up');
    }
    assert.match(r.clientLog, why);
    assert.equal(fs.readFileSync('/proc/mounts', 'utf8').includes(r.error) ? 'leaked' : 'clean', 'clean');
  });
}

test('bad input: a broken module in a brick graph stops the brick from starting', async () => {
  const r = await tryStartVolume({ brick: [glujs('bad-brick', fixture('ctor-throws.ts'))] });
  if (r.ok) {
    await r.volume.stop();
    assert.fail('the brick came up');
  }
  assert.match(r.brickLog, /0-bad-brick: cannot load translator module .*constructor refuses to start/);
});

test('a handler that throws gives EIO, process.exit() and garbage replies leave the daemon alive', async (t) => {
  const v = await withVolume(t, { client: [glujs('faulty', fixture('faulty.ts'), { 'handler-timeout': 2 })] });
  const m = v.mount;
  fs.mkdirSync(path.join(m, 'd'));
  const at = (n: string) => path.join(m, 'd', n);
  assert.equal(errCode(() => fs.statSync(at('throw'))), 'EIO');
  assert.equal(errCode(() => fs.statSync(at('reject'))), 'EIO');
  assert.equal(errCode(() => fs.statSync(at('garbage'))), 'EIO');
  assert.equal(errCode(() => fs.statSync(at('twice'))), 'EPERM', 'the first answer wins');
  assert.equal(errCode(() => fs.statSync(at('exit'))), 'EIO');
  assert.ok(alive(v.clientPids[0]), 'the client survived process.exit()');
  // the environment is restarted (fops in the gap fail with ENOTCONN); then handlers work again
  await until(() => errCode(() => fs.writeFileSync(at('after'), 'still here')) === 'ok', 5000, 'restart');
  assert.equal(fs.readFileSync(at('after'), 'utf8'), 'still here');
  const log = v.log(0);
  assert.match(log, /0-faulty: lookup failed with Input\/output error: the handler (threw|rejected): Error: boom from a handler\n?\s+at Faulty\.lookup \(.*faulty\.ts:\d+:\d+\)/);
  assert.match(log, /0-faulty: lookup failed with Input\/output error: the handler rejected: Error: rejected on purpose/);
  assert.match(log, /0-faulty: lookup failed with Input\/output error: malformed reply: TypeError: opRet must be an integer/);
  assert.match(log, /0-faulty: the module called process.exit\(3\); its environment is stopped, the daemon lives on/);
  assert.match(log, /0-faulty: restarting the JS environment/);
});

test('handler-timeout fails a fop JS never answers, and the watchdog ends a spinning handler', async (t) => {
  const v = await withVolume(t, { client: [glujs('faulty', fixture('faulty.ts'), { 'handler-timeout': 2, watchdog: 1 })] });
  fs.mkdirSync(path.join(v.mount, 'd'));
  let t0 = Date.now();
  assert.equal(errCode(() => fs.statSync(path.join(v.mount, 'd', 'hang'))), 'ETIMEDOUT');
  assert.ok(Date.now() - t0 < 3000, `timed out after ${Date.now() - t0} ms`);
  t0 = Date.now();
  assert.equal(errCode(() => fs.statSync(path.join(v.mount, 'd', 'spin'))), 'EIO');
  assert.ok(Date.now() - t0 < 2000, `watchdog ended it after ${Date.now() - t0} ms`);
  assert.ok(alive(v.clientPids[0]));
  await until(() => errCode(() => fs.writeFileSync(path.join(v.mount, 'd', 'ok'), 'fine')) === 'ok', 5000, 'restart');
  assert.equal(fs.readFileSync(path.join(v.mount, 'd', 'ok'), 'utf8'), 'fine');
  assert.match(v.log(0), /no answer from the JS handler within handler-timeout \(2000 ms\)/);
  assert.match(v.log(0), /without returning to its event loop \(watchdog\)/);
});

test('a timeout while the wind is still in flight: the late reply is discarded safely', async (t) => {
  // top (handler-timeout 1 s) winds to delay, which holds lookups of slow* for 1.5 s
  const v = await withVolume(t, {
    client: [glujs('delay', fixture('delay.ts'), { ms: 1500 }), glujs('top', fixture('passthru.ts'), { 'handler-timeout': 1 })],
  });
  fs.mkdirSync(path.join(v.mount, 'd'));
  const t0 = Date.now();
  assert.equal(errCode(() => fs.statSync(path.join(v.mount, 'd', 'slow1'))), 'ETIMEDOUT');
  assert.ok(Date.now() - t0 < 2000, `failed after ${Date.now() - t0} ms`);
  await new Promise((r) => setTimeout(r, 1000)); // the wind's reply arrives now, after the op is gone
  assert.ok(alive(v.clientPids[0]));
  assert.equal(errCode(() => fs.statSync(path.join(v.mount, 'd', 'fine'))), 'ENOENT');
  fs.writeFileSync(path.join(v.mount, 'd', 'after'), 'ok');
  const dump = await v.statedump(0);
  assert.match(dump, /\[xlator\.features\.glujs\.top\.priv\][^[]*timeouts=1\b/);
  assert.match(dump, /\[xlator\.features\.glujs\.top\.priv\][^[]*late_answers=1\b/);
});

test('glujs/testing: one call starts a volume with a module and returns the mount path', async (t) => {
  const { withTranslator } = await import('../lib/testing');
  const mnt = await withTranslator(t, example('deny.ts'), { options: { name: 'nope' } });
  assert.equal(errCode(() => fs.writeFileSync(path.join(mnt, 'nope'), 'x')), 'EACCES');
  fs.writeFileSync(path.join(mnt, 'yes'), 'x');
  assert.equal(fs.readFileSync(path.join(mnt, 'yes'), 'utf8'), 'x');
});

test('malformed answers the fuzz found: each fails its fop with EIO at once, and the daemon lives', async (t) => {
  const v = await withVolume(t, { client: [glujs('mal', fixture('malformed.ts'), { 'handler-timeout': 20, watchdog: 5 })] });
  const d = path.join(v.mount, 'd');
  fs.mkdirSync(d);
  const code = (fn: () => unknown) => { try { fn(); return 'ok'; } catch (e) { return (e as NodeJS.ErrnoException).code; } };
  for (const [name, call, why] of [
    ['mk-empty', () => fs.closeSync(fs.openSync(path.join(d, 'mk-empty'), 'wx')), /create reply\.buf: a success needs the entry's iatt with its gfid/],
    ['mk-null', () => fs.closeSync(fs.openSync(path.join(d, 'mk-null'), 'wx')), /create reply\.buf: a success needs the entry's iatt with its gfid/],
    ['ov-buffer', () => fs.accessSync(path.join(d, 'ov-buffer')), /lookup: the arguments to replace must be a plain object of fields, not Buffer/],
    ['xd-string', () => fs.accessSync(path.join(d, 'xd-string')), /xdata\/dict must be a Dict, a Map or a plain object, not string/],
    ['th-proto', () => fs.accessSync(path.join(d, 'th-proto')), /the handler rejected: \[object Object\] \(cannot be inspected\)/],
    ['wn-fd', () => fs.closeSync(fs.openSync(path.join(d, 'wn-fd'), 'wx')), /create fd: null cannot be wound; leave it out to keep the op's own/],
    ['wn-loc', () => fs.accessSync(path.join(d, 'wn-loc')), /lookup loc: null cannot be wound/],
    ['xd-huge', () => fs.accessSync(path.join(d, 'xd-huge')), /lookup xdata: bad value for key 'big' \(a dict value holds at most 1 MB\)/],
    ['px-iatt', () => fs.accessSync(path.join(d, 'px-iatt')), /lookup failed with Input\/output error: malformed reply: Error: iatt trap/],
  ] as const) {
    const t0 = Date.now();
    assert.equal(code(call), 'EIO', name);
    assert.ok(Date.now() - t0 < 3000, `${name} took ${Date.now() - t0} ms (a timeout or the watchdog, not a quick refusal)`);
    assert.match(v.log(0), why, name);
  }
  assert.ok(alive(v.clientPids[0]), 'the daemon lives');
  fs.writeFileSync(path.join(d, 'fine'), 'ok');
  assert.equal(fs.readFileSync(path.join(d, 'fine'), 'utf8'), 'ok');
  assert.doesNotMatch(v.log(0), /signal received|restarting the JS environment/);
});
