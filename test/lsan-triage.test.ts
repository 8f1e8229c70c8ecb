// scripts/lsan-triage.mjs decides whether `npm run test:asan` is clean: these
// check its rules on LeakSanitizer reports shaped like the daemons' own.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { ROOT } from './util';

const SCRIPT = path.join(ROOT, 'scripts', 'lsan-triage.mjs');
const HEAD = '=================================================================\n==4242==ERROR: LeakSanitizer: detected memory leaks\n\n';
const leak = (kind: 'Direct' | 'Indirect', bytes: number, frames: string[]) =>
  `${kind} leak of ${bytes} byte(s) in 1 object(s) allocated from:\n` +
  ['__interceptor_malloc ../../../../src/libsanitizer/asan/asan_malloc_linux.cpp:69', ...frames]
    .map((f, i) => `    #${i} 0x7f00000${i}0000 in ${f}\n`).join('') + '\n';
const FUSE_IOBUF = ['__gf_malloc (/lib/x86_64-linux-gnu/libglusterfs.so.0+0x4a901)', 'iobuf_get2 (/lib/x86_64-linux-gnu/libglusterfs.so.0+0x4e71d)',
  ' (/usr/lib/x86_64-linux-gnu/glusterfs/10.3/xlator/mount/fuse.so+0x1d468)', 'start_thread nptl/pthread_create.c:442'];

/** logs: text, or [exe, text] for a log named asan.<exe>.<pid> (ASAN_OPTIONS log_exe_name=1). */
function triage(logs: (string | [string, string])[]): { status: number; out: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'glujs-triage-'));
  try {
    logs.forEach((l, i) => fs.writeFileSync(path.join(dir, typeof l === 'string' ? `asan.${1000 + i}` : `asan.${l[0]}.${1000 + i}`), typeof l === 'string' ? l : l[1]));
    try {
      return { status: 0, out: execFileSync(process.execPath, [SCRIPT, dir], { encoding: 'utf8' }) };
    } catch (e) {
      const err = e as { status: number; stdout: string };
      return { status: err.status, out: err.stdout };
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

test('leaks listed in scripts/lsan-known.txt, with no glujs frame, are clean', () => {
  const r = triage([HEAD + leak('Direct', 124, FUSE_IOBUF) + leak('Indirect', 131100, FUSE_IOBUF)]);
  assert.equal(r.status, 0, r.out);
  assert.match(r.out, /known {2}fuse-reader-iobuf: 2 record\(s\), 131224 bytes, in 1 process/);
  assert.match(r.out, /^clean/m);
});

test('a leak with a glujs frame fails even when the rest of its stack is a known one', () => {
  const ours = [...FUSE_IOBUF.slice(0, 2), 'gj_make_vector ../native/gluster/values.c:410', ...FUSE_IOBUF.slice(2)];
  const inModule = [...FUSE_IOBUF.slice(0, 2), ' (/tmp/glujs-asan-tree.x/build/Release/glujs.node+0x1234)', ...FUSE_IOBUF.slice(2)];
  for (const frames of [ours, inModule]) {
    const r = triage([HEAD + leak('Direct', 124, frames)]);
    assert.equal(r.status, 1, r.out);
    assert.match(r.out, /ours: 1 record/);
    assert.match(r.out, /FAILED: 1 finding/);
  }
});

test('a leak nobody has explained fails, and is printed', () => {
  const r = triage([HEAD + leak('Direct', 64, ['__gf_calloc (/lib/x86_64-linux-gnu/libglusterfs.so.0+0x4a10e)', 'dict_new (/lib/x86_64-linux-gnu/libglusterfs.so.0+0x1234)'])]);
  assert.equal(r.status, 1, r.out);
  assert.match(r.out, /unknown: 1 record/);
  assert.match(r.out, /dict_new/);
});

test('any AddressSanitizer error fails', () => {
  const r = triage(['==4242==ERROR: AddressSanitizer: heap-use-after-free on address 0x602000000010\n']);
  assert.equal(r.status, 1, r.out);
  assert.match(r.out, /sanitizer error: .*heap-use-after-free/);
});

test('leaks of programs that run no glujs code (glusterd, its Python helpers) are counted, not judged, unless glujs is in them', () => {
  const py = leak('Direct', 9240, ['PyType_Ready (/usr/bin/python3.11+0x501286)']);
  const clean = triage([['python3', HEAD + py], ['glusterfs', HEAD + leak('Direct', 124, FUSE_IOBUF)]]);
  assert.equal(clean.status, 0, clean.out);
  assert.match(clean.out, /not judged: python3 \(runs no glujs code\): 1 record\(s\), 9240 bytes/);
  const inDaemon = triage([['glusterfsd', HEAD + py]]);
  assert.equal(inDaemon.status, 1, 'the same leak in a GlusterFS daemon is judged');
  const withGlujs = triage([['glusterd', HEAD + leak('Direct', 88, ['napi_create_reference', 'JsAttach ../native/node/binding.cc:745'])]]);
  assert.equal(withGlujs.status, 1, withGlujs.out);
  assert.match(withGlujs.out, /ours: 1 record/);
  const uaf = '==4242==ERROR: AddressSanitizer: heap-use-after-free on address 0x6060\nREAD of size 1\n    #0 0x7f in strncmp\n    #1 0x7f  (/usr/lib/x86_64-linux-gnu/glusterfs/10.3/xlator/mgmt/glusterd.so+0x38982)\n\nSUMMARY: AddressSanitizer: heap-use-after-free\n';
  const gdError = triage([['glusterd', uaf]]);
  assert.equal(gdError.status, 0, gdError.out);
  assert.match(gdError.out, /not judged: sanitizer error in a program that runs no glujs code: .*heap-use-after-free/);
  assert.equal(triage([['glusterfsd', uaf]]).status, 1, 'the same error in a brick is judged');
});

test('the gfapi test client (glujs-gfapi-probe) is judged like a daemon: libgfapi\'s own leaks are known, others fail', () => {
  const ctx = ['glusterfs_ctx_new (/lib/x86_64-linux-gnu/libglusterfs.so.0+0x76609)', 'glfs_new (/lib/x86_64-linux-gnu/libgfapi.so.0+0xc7f0)', 'main (/tmp/glujs-gfapi-probe+0x17cd)'];
  const known = triage([['glujs-gfapi-probe', HEAD + leak('Direct', 130, ctx)]]);
  assert.equal(known.status, 0, known.out);
  assert.match(known.out, /known {2}gfapi-ctx: 1 record/);
  const other = triage([['glujs-gfapi-probe', HEAD + leak('Direct', 64, ['__gf_calloc (/lib/x86_64-linux-gnu/libglusterfs.so.0+0x4a10e)', 'dict_new (/lib/x86_64-linux-gnu/libglusterfs.so.0+0x1234)'])]]);
  assert.equal(other.status, 1, other.out);
  assert.match(other.out, /unknown: 1 record/);
});
