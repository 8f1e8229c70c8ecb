// examples/audit.ts: one JSON line per change, with who made it.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { withVolume } from '../lib/testing';
import { example, glujs, until } from './util';

test('examples/audit.ts records every change with its path, uid, pid and result', async (t) => {
  const dir = fs.mkdtempSync('/tmp/glujs-audit-');
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'audit.log');
  const v = await withVolume(t, { client: [glujs('audit', example('audit.ts'), { file, exclude: '/scratch' })] });
  const m = v.mount;
  fs.chmodSync(v.dir, 0o755); // let another user reach the mount point
  fs.mkdirSync(path.join(m, 'pub'), { mode: 0o777 });
  fs.chmodSync(path.join(m, 'pub'), 0o777);
  fs.writeFileSync(path.join(m, 'pub', 'a.txt'), 'hello');
  fs.renameSync(path.join(m, 'pub', 'a.txt'), path.join(m, 'pub', 'b.txt'));
  fs.chmodSync(path.join(m, 'pub', 'b.txt'), 0o640);
  execFileSync('setfattr', ['-n', 'user.tag', '-v', 'x', path.join(m, 'pub', 'b.txt')]);
  assert.throws(() => fs.rmdirSync(path.join(m, 'pub')), /ENOTEMPTY/);
  // another user
  execFileSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'touch', path.join(m, 'pub', 'nobody.txt')]);
  fs.mkdirSync(path.join(m, 'scratch'));
  fs.writeFileSync(path.join(m, 'scratch', 'ignored'), 'x');
  fs.unlinkSync(path.join(m, 'pub', 'b.txt'));

  const records = await until(() => {
    const lines = fs.existsSync(file) ? fs.readFileSync(file, 'utf8').trim().split('\n').filter(Boolean) : [];
    const r = lines.map((l) => JSON.parse(l));
    return r.some((x) => x.fop === 'unlink') ? r : undefined;
  }, 5000, 'audit records');
  const find = (fop: string, p: string) => records.find((r) => r.fop === fop && r.path === p);
  assert.equal(find('mkdir', '/pub')?.result, 'ok');
  assert.equal(find('create', '/pub/a.txt')?.uid, 0);
  assert.ok(find('create', '/pub/a.txt')?.pid > 0, 'the pid of the process that created it');
  assert.deepEqual(
    records.filter((r) => r.fop === 'writev').map((r) => [r.bytes, r.offset, r.result]), [[5, 0, 'ok']]);
  assert.equal(find('rename', '/pub/a.txt')?.to, '/pub/b.txt');
  assert.equal(find('setattr', '/pub/b.txt')?.mode, '640');
  assert.equal(find('setxattr', '/pub/b.txt')?.result, 'ok');
  assert.equal(find('rmdir', '/pub')?.result, 'ENOTEMPTY');
  const nobody = find('create', '/pub/nobody.txt');
  assert.equal(nobody?.uid, 65534, JSON.stringify(nobody));
  assert.equal(nobody?.gid, 65534);
  assert.equal(find('unlink', '/pub/b.txt')?.result, 'ok');
  assert.equal(records.filter((r) => String(r.path).startsWith('/scratch')).length, 0, 'excluded prefix');
  assert.ok(!records.some((r) => ['lookup', 'readv', 'stat'].includes(r.fop)), 'reads are not audited');
});
