// The GlusterFS headers are built without Debian's config.h, which changes
// struct layouts (native/gluster/gf-config.h stands in for it). If the two ever
// disagree, every this->private is a wild pointer: check against Debian's own
// binaries that read the same field.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { ROOT } from './util';
import { xlatorDir } from '../lib/tools/paths';

const probe = `#include <stdio.h>
#include <stddef.h>
#include <glusterfs/xlator.h>
int main(void) { printf("%zu %zu\\n", offsetof(xlator_t, private), sizeof(gf_atomic_t)); return 0; }
`;

test('xlator_t layout with gf-config.h matches Debian\'s GlusterFS binaries', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'glujs-layout-'));
  try {
    fs.writeFileSync(path.join(dir, 'p.c'), probe);
    execFileSync('cc', ['-include', path.join(ROOT, 'native/gluster/gf-config.h'), '-o', path.join(dir, 'p'), path.join(dir, 'p.c')]);
    const [priv, atomic] = execFileSync(path.join(dir, 'p'), { encoding: 'utf8' }).trim().split(' ').map(Number);
    assert.equal(atomic, 8, 'gf_atomic_t is 8 bytes with HAVE_ATOMIC_BUILTINS');
    const operand = new RegExp(`0x${priv.toString(16)}\\(%r`, 'g');
    const uses = (so: string) => (execFileSync('objdump', ['-d', '--no-show-raw-insn', so], { encoding: 'utf8', maxBuffer: 64 << 20 }).match(operand) ?? []).length;
    // nl-cache reads this->private in every fop; with a wrong layout it would not use this offset at all
    assert.ok(uses(path.join(xlatorDir(), 'performance/nl-cache.so')) >= 10, `Debian's nl-cache.so reads xlator_t.private at 0x${priv.toString(16)}`);
    assert.ok(uses(path.join(ROOT, 'build/Release/glujs.node')) >= 5, 'and so does glujs');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
