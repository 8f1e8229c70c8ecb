// One source for what C, C++ and TypeScript share (tools/shared.mjs and the
// installed xlator.h): the generated files must be current, and what the
// compiler sees in native/ must be what lib/ was generated with.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { ROOT } from './util';
import { FOPS } from '../lib/gen/fops';
import { KINDS, EVENTS, LOG_LEVEL, DictType, OWN_OPTIONS, FAST_COUNTERS } from '../lib/gen/shared';

test('the generated fop table and shared constants are current (tools/gen-fops.mjs --check)', () => {
  const r = spawnSync(process.execPath, [path.join(ROOT, 'tools/gen-fops.mjs'), '--check'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
});

test('native/ compiles to the values lib/gen was generated with', () => {
  const names = Object.keys(FOPS) as (keyof typeof FOPS)[];
  const gf = (n: string) => `GF_FOP_${({ readv: 'read', writev: 'write' } as Record<string, string>)[n] ?? n}`.toUpperCase();
  const C = (s: string) => s.toUpperCase().replace(/-/g, '_');
  const probe = `#include <stdio.h>
#include <glusterfs/glusterfs-fops.h>
#include "bridge.h"
int main(void) {
  printf("{\\"kinds\\": [%d${KINDS.slice(1).map(() => ', %d').join('')}], \\"kindMax\\": %d,\\n", ${KINDS.map((k) => `GJ_${C(k)}`).join(', ')}, GJ_KIND_MAX);
  printf("\\"events\\": [%d${EVENTS.slice(1).map(() => ', %d').join('')}], \\"eventMax\\": %d,\\n", ${EVENTS.map((e) => `GJ_EV_${C(e)}`).join(', ')}, GJ_EV_MAX);
  printf("\\"levels\\": [%d, %d, %d, %d, %d],\\n", GJ_LOG_ERROR, GJ_LOG_WARNING, GJ_LOG_INFO, GJ_LOG_DEBUG, GJ_LOG_TRACE);
  printf("\\"dict\\": [%d, %d, %d, %d, %d, %d],\\n", GJ_DV_STR, GJ_DV_INT, GJ_DV_UINT, GJ_DV_DOUBLE, GJ_DV_BIN, GJ_DV_GFID);
  printf("\\"options\\": [\\"%s\\"${OWN_OPTIONS.slice(1).map(() => ', \\"%s\\"').join('')}],\\n", ${OWN_OPTIONS.map((o) => `GJ_OPT_${C(o)}`).join(', ')});
#define NAME(n, d) "\\"" #n "\\", "
  printf("\\"fast\\": [%s null], \\"fastSize\\": %zu,\\n", GJ_FAST_COUNTERS(NAME), sizeof(gj_fast_stats_t));
  printf("\\"fops\\": [%d${names.slice(1).map(() => ', %d').join('')}]}\\n", ${names.map(gf).join(', ')});
  return 0;
}
`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'glujs-shared-'));
  try {
    fs.writeFileSync(path.join(dir, 'p.c'), probe);
    execFileSync('cc', ['-include', path.join(ROOT, 'native/gluster/gf-config.h'), '-I', path.join(ROOT, 'native'),
      '-o', path.join(dir, 'p'), path.join(dir, 'p.c')], { stdio: ['ignore', 'ignore', 'pipe'] });
    const got = JSON.parse(execFileSync(path.join(dir, 'p'), { encoding: 'utf8' }));
    assert.deepEqual(got.kinds, KINDS.map((_, i) => i));
    assert.equal(got.kindMax, KINDS.length);
    assert.deepEqual(got.events, EVENTS.map((_, i) => i));
    assert.equal(got.eventMax, EVENTS.length);
    assert.deepEqual(got.levels, [LOG_LEVEL.error, LOG_LEVEL.warning, LOG_LEVEL.info, LOG_LEVEL.debug, LOG_LEVEL.trace]);
    assert.deepEqual(got.dict, [DictType.Str, DictType.Int, DictType.Uint, DictType.Double, DictType.Bin, DictType.Gfid]);
    assert.deepEqual(got.options, [...OWN_OPTIONS]);
    assert.deepEqual(got.fast.slice(0, -1), [...FAST_COUNTERS]);
    assert.equal(got.fastSize, 8 * FAST_COUNTERS.length);
    assert.deepEqual(got.fops, names.map((n) => FOPS[n].code), 'GF_FOP codes');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("the xlator's volume_options are glujs's own options, by their generated names", () => {
  const src = fs.readFileSync(path.join(ROOT, 'native/gluster/xlator.c'), 'utf8');
  const keys = [...src.matchAll(/\.key = \{([^}]*)\}/g)].map((m) => m[1].trim());
  assert.ok(keys.includes('"*"') && keys.includes('NULL'), 'the catch-all and the end of the table');
  const own = keys.filter((k) => k !== '"*"' && k !== 'NULL');
  assert.ok(own.every((k) => /^GJ_OPT_[A-Z_]+$/.test(k)), `option keys by name, not literals: ${own.join(', ')}`);
  const C = (s: string) => `GJ_OPT_${s.toUpperCase().replace(/-/g, '_')}`;
  // every native key is a glujs option; the rest are the runtime's alone (upcall-bricks)
  assert.ok(own.every((k) => OWN_OPTIONS.some((o) => C(o) === k)), own.join(', '));
  assert.deepEqual(OWN_OPTIONS.filter((o) => !own.includes(C(o))), ['upcall-bricks']);
});
