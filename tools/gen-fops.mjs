#!/usr/bin/env node
// The one fop table. It is read from the installed GlusterFS header (xlator.h:
// `struct xlator_fops` gives the fops and their GF_FOP codes, `fop_<name>_t` and
// `fop_<name>_cbk_t` their arguments) and turned into
//   native/gen/fops.c   the C glue: entry, wind, callback and unwind per fop
//   lib/gen/fops.ts     the TypeScript types and the runtime's field tables
//   docs/fops.md        the fop reference
// and the constants of tools/shared.mjs into native/gen/shared.h and
// lib/gen/shared.ts. Nothing per fop, and no shared constant, is written by hand
// anywhere else. `--check` writes nothing and exits 1 if a file is out of date.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { KINDS, EVENTS, LOG_LEVELS, DICT_TYPES, OPTIONS, FAST_COUNTERS } from './shared.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const header = process.env.GLUJS_XLATOR_H || '/usr/include/glusterfs/xlator.h';
const src = fs.readFileSync(header, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/\s+/g, ' ');

// C parameter type -> value kind. A kind is what crosses the bridge; see native/bridge.h.
const KIND_OF_TYPE = {
  'int32_t': 'num', 'int': 'num', 'uint32_t': 'num', 'size_t': 'num', 'off_t': 'num',
  'off64_t': 'num', 'mode_t': 'num', 'dev_t': 'num', 'gf_xattrop_flags_t': 'num',
  'entrylk_type': 'num', 'entrylk_cmd': 'num', 'gf_seek_what_t': 'num',
  'const char *': 'str', 'char *': 'str',
  'dict_t *': 'dict', 'struct iatt *': 'iatt', 'loc_t *': 'loc', 'fd_t *': 'fd',
  'inode_t *': 'inode', 'struct iovec *': 'data', 'gf_dirent_t *': 'entries',
  'struct statvfs *': 'statvfs', 'struct gf_flock *': 'flock', 'struct gf_lease *': 'lease',
  'struct iobref *': 'iobref', 'uint8_t *': 'checksum', 'lock_migration_info_t *': 'locklist', 'void *': 'opaque',
};
// Kinds that cannot be held past the call that passed them: a fop carrying one
// is always passed through in C and may not have a JS handler.
const UNHELD = new Set(['locklist', 'opaque']);
// TypeScript type of each kind, for the generated interfaces.
const TS_OF_KIND = {
  num: 'number', str: 'string', dict: 'Dict', iatt: 'Iatt', loc: 'Loc', fd: 'Fd',
  inode: 'Inode', data: 'Buffer', entries: 'DirEntry[]', statvfs: 'Statvfs', flock: 'Flock',
  lease: 'Opaque', checksum: 'Buffer', locklist: 'Opaque', opaque: 'Opaque',
};
for (const k of Object.values(KIND_OF_TYPE)) if (k !== 'iobref' /* folded into data */ && !KINDS.includes(k)) throw new Error(`kind '${k}' is not in tools/shared.mjs KINDS`);

const camel = (s) => s.replace(/_([a-z0-9])/g, (_, c) => c.toUpperCase());

function params(name, cbk) {
  const re = new RegExp(`typedef int32_t \\(\\*fop_${name}${cbk ? '_cbk' : ''}_t\\)\\(([^)]*)\\);`);
  const m = src.match(re);
  if (!m) throw new Error(`${header}: no typedef for fop_${name}${cbk ? '_cbk' : ''}_t`);
  const all = m[1].split(',').map((p) => {
    const cname = p.trim().match(/([a-z_0-9]+)$/)[1];
    const ctype = p.trim().slice(0, -cname.length).trim().replace(/\s*\*$/, ' *');
    return { ctype, cname };
  });
  // frame, this (and cookie, this for callbacks) are the stack, not arguments.
  const list = all.slice(cbk ? 3 : 2);
  for (const p of list) {
    p.kind = KIND_OF_TYPE[p.ctype];
    if (!p.kind) throw new Error(`fop ${name}: unknown C type '${p.ctype}' of '${p.cname}'`);
  }
  // An iovec vector with its count and iobref is one value, `data`.
  const out = [];
  let data = null;
  for (const p of list) {
    if (p.kind === 'data') { data = Object.assign(p, { js: 'data', parts: [p.cname] }); out.push(data); continue; }
    if (data && p.cname === 'count' && p.ctype === 'int32_t') { data.parts.push(p.cname); p.folded = data; continue; }
    if (data && p.ctype === 'struct iobref *') { data.parts.push(p.cname); p.folded = data; continue; }
    p.js = camel(p.cname);
    out.push(p);
  }
  return { all: list, fields: out };
}

// GF_FOP codes, by name, from glusterfs-fops.h (beside xlator.h)
const fopsHeader = process.env.GLUJS_FOPS_H || path.join(path.dirname(header), 'glusterfs-fops.h');
const GF_FOP = Object.fromEntries([...fs.readFileSync(fopsHeader, 'utf8').matchAll(/\b(GF_FOP_[A-Z_]+) = 0 \+ (\d+),/g)].map((m) => [m[1], Number(m[2])]));
// The GF_FOP name of a fop: its name in capitals, but for the two the enum shortens.
const gfName = (name) => `GF_FOP_${({ readv: 'read', writev: 'write' })[name] ?? name}`.toUpperCase();

// fops in struct order (the 3 cbks keep their slots)
const body = src.match(/struct xlator_fops \{(.*?)\};/)[1];
const slots = [...body.matchAll(/(?:fop_([a-z_]+)_t [a-z_]+|void \*([a-z_]+)_placeholder);/g)]
  .map((m) => m[1] ?? m[2]).filter((n) => !n.endsWith('_cbk'));
const fops = [];
for (const name of slots) {
  if (['forget', 'release', 'releasedir'].includes(name)) continue;
  const args = params(name, false);
  const cbk = params(name, true);
  const kinds = [...args.fields, ...cbk.fields].map((f) => f.kind);
  const gf = gfName(name);
  if (!(gf in GF_FOP)) throw new Error(`fop ${name}: no ${gf} in ${fopsHeader}`);
  fops.push({ name, gf, code: GF_FOP[gf], args, cbk, js: !kinds.some((k) => UNHELD.has(k)) });
}
if (fops.length !== 55) throw new Error(`expected 55 fops in struct xlator_fops, found ${fops.length}`);

// ---------------------------------------------------------------- C glue
const K = (k) => `GJ_${k.toUpperCase()}`;
// Expression passing held value `v` as C parameter p.
function unpack(p, v) {
  if (p.folded) {
    const d = p.folded;
    const idx = d.idx;
    return p.cname === 'count' ? `gj_data_count(${v}[${idx}].p)` : `gj_data_iobref(${v}[${idx}].p)`;
  }
  if (p.kind === 'data') return `gj_data_iov(${v}[${p.idx}].p)`;
  if (p.kind === 'num') return `(${p.ctype})${v}[${p.idx}].i`;
  return `(${p.ctype})${v}[${p.idx}].p`;
}
// Statement holding C parameter p into v[idx] (a reference or copy that outlives the call).
function pack(p, v) {
  if (p.kind === 'num') return `${v}[${p.idx}].i = (int64_t)${p.cname};`;
  if (p.kind === 'data') {
    const [, count, iobref] = [p.cname, ...p.parts.slice(1)];
    return `${v}[${p.idx}].p = gj_hold_data(${p.cname}, ${count ?? '0'}, ${iobref ?? 'NULL'});`;
  }
  return `${v}[${p.idx}].p = gj_hold_${p.kind}((void *)${p.cname});`;
}
function index(side) {
  side.fields.forEach((f, i) => { f.idx = i; });
}
const decl = (side) => side.all.map((p) => `${p.ctype}${p.ctype.endsWith('*') ? '' : ' '}${p.cname}`).join(', ');
const names = (side) => side.all.map((p) => p.cname).join(', ');

// The fops whose replies the kernel may cache (dentries) or that change what it
// caches: with the kernel tier on (native/gluster/kernel.c) they pass glujs
// twice, once to wind to itself with a callback that sees the reply go up.
const KERNEL = new Set(['lookup', 'create', 'mknod', 'mkdir', 'symlink', 'link', 'rename', 'unlink', 'rmdir', 'readdirp']);
function kernelWrap(f) {
  if (!KERNEL.has(f.name)) return '';
  const locs = f.args.fields.filter((p) => p.kind === 'loc').map((p) => p.cname);
  const fd = f.args.fields.find((p) => p.kind === 'fd')?.cname ?? 'NULL';
  const entries = f.cbk.fields.find((p) => p.kind === 'entries')?.cname ?? 'NULL';
  const fop = (body) => `static int32_t gj_${body}_${f.name}(call_frame_t *frame, xlator_t *this, ${decl(f.args)})`;
  return `${fop('body')};

static int32_t gj_kcbk_${f.name}(call_frame_t *frame, void *cookie, xlator_t *this, ${decl(f.cbk)})
{
    gj_kernel_reply(this, cookie, op_ret, op_errno, ${entries});
    STACK_UNWIND_STRICT(${f.name}, frame, ${names(f.cbk)});
    gj_kernel_done(this, cookie);
    return 0;
}

${fop('fop')}
{
    /* the kernel tier: wind to this xlator itself, to see the reply on its way up */
    void *k = frame->ret == (ret_fn_t)gj_kcbk_${f.name} ? NULL
            : gj_kernel_enter(this, ${f.gf}, ${locs[0] ?? 'NULL'}, ${locs[1] ?? 'NULL'}, ${fd});
    if (!k)
        return gj_body_${f.name}(frame, this, ${names(f.args)});
    STACK_WIND_COOKIE(frame, gj_kcbk_${f.name}, k, this, this->fops->${f.name}, ${names(f.args)});
    return 0;
}

`;
}

let c = `/* Generated by tools/gen-fops.mjs from ${header}. Do not edit. */
#include "../gluster/glue.h"

/* The codes lib/gen/fops.ts was generated with: a GlusterFS that renumbers its fops fails the build. */
${fops.map((f) => `_Static_assert(${f.gf} == ${f.code}, "${f.gf} is not ${f.code}: rerun tools/gen-fops.mjs");`).join('\n')}

`;
for (const f of fops) {
  index(f.args); index(f.cbk);
  const na = f.args.fields.length, nr = f.cbk.fields.length;
  const wargs = f.args.all.map((p) => unpack(p, 'a')).join(', ');
  const rargs = f.cbk.all.map((p) => unpack(p, 'r')).join(', ');
  if (!f.js) {
    c += `/* ${f.name}: carries a value glujs cannot hold (${[...f.args.fields, ...f.cbk.fields].map((x) => x.kind).filter((k) => UNHELD.has(k)).join(', ')}); always passed through. */\n`;
    c += `static int32_t gj_fop_${f.name}(call_frame_t *frame, xlator_t *this, ${decl(f.args)})\n{\n` +
      `    STACK_WIND_TAIL(frame, FIRST_CHILD(this), FIRST_CHILD(this)->fops->${f.name}, ${names(f.args)});\n    return 0;\n}\n\n`;
    continue;
  }
  c += `static int32_t gj_cbk_${f.name}(call_frame_t *frame, void *cookie, xlator_t *this, ${decl(f.cbk)})
{
    gj_val_t r[${nr}];
${f.cbk.fields.map((p) => '    ' + pack(p, 'r')).join('\n')}
    gj_wind_done(frame, cookie, this, r);
    return 0;
}

static void gj_wind_${f.name}(call_frame_t *frame, xlator_t *child, void *cookie, const gj_val_t *a)
{
    STACK_WIND_COOKIE(frame, gj_cbk_${f.name}, cookie, child, child->fops->${f.name}, ${wargs});
}

static void gj_forward_${f.name}(call_frame_t *frame, xlator_t *child, const gj_val_t *a)
{
    STACK_WIND_TAIL(frame, child, child->fops->${f.name}, ${wargs});
}

static void gj_unwind_${f.name}(call_frame_t *frame, const gj_val_t *r)
{
    STACK_UNWIND_STRICT(${f.name}, frame, ${rargs});
}

${kernelWrap(f)}static int32_t gj_${KERNEL.has(f.name) ? 'body' : 'fop'}_${f.name}(call_frame_t *frame, xlator_t *this, ${decl(f.args)})
{
    gj_val_t a[${na}];
${f.name === 'lookup' ? `    if (gj_fast_lookup(frame, this, loc, xdata)) /* the native table, with or without a JS lookup */\n        return 0;\n` : ''}    if (!gj_handled(this, ${f.gf}))
        goto wind;
${f.args.fields.map((p) => '    ' + pack(p, 'a')).join('\n')}
    if (gj_fop_enter(frame, this, ${f.gf}, a) == 0)
        return 0;
wind:
    STACK_WIND_TAIL(frame, FIRST_CHILD(this), FIRST_CHILD(this)->fops->${f.name}, ${names(f.args)});
    return 0;
}

`;
}
const kindList = (side) => `{${side.fields.map((p) => K(p.kind)).join(', ')}}`;
c += `const gj_fop_desc_t gj_fop_table[GJ_FOP_MAX] = {\n`;
for (const f of fops) {
  c += `    [${f.gf}] = {"${f.name}", ${f.gf}, ${f.js ? 1 : 0}, ${f.args.fields.length}, ${kindList(f.args)}, ${f.cbk.fields.length}, ${kindList(f.cbk)},\n` +
    (f.js ? `        gj_wind_${f.name}, gj_forward_${f.name}, gj_unwind_${f.name}},\n` : `        NULL, NULL, NULL},\n`);
}
c += `};\n\nstruct xlator_fops gj_fops = {\n${fops.map((f) => `    .${f.name} = gj_fop_${f.name},`).join('\n')}\n};\n`;

// ---------------------------------------------------------------- TypeScript
const fieldTs = (p) => `  ${p.js}: ${TS_OF_KIND[p.kind]};`;
let ts = `// Generated by tools/gen-fops.mjs from ${header}. Do not edit.
import type { Dict, Iatt, Loc, Fd, Inode, DirEntry, Statvfs, Flock, Opaque } from '../types';
import type { Op, HandlerResult } from '../translator';

export { KINDS } from './shared';

/** Every fop: its GF_FOP code, whether JS may handle it, and its argument and reply fields (by kind). */
export const FOPS = {
${fops.map((f) => `  ${f.name}: { code: ${f.code}, js: ${f.js}, args: ${JSON.stringify(f.args.fields.map((p) => p.js))}, argKinds: ${JSON.stringify(f.args.fields.map((p) => p.kind))}, reply: ${JSON.stringify(f.cbk.fields.map((p) => p.js))}, replyKinds: ${JSON.stringify(f.cbk.fields.map((p) => p.kind))} },`).join('\n')}
} as const;

export type FopName = keyof typeof FOPS;
`;
for (const f of fops) {
  const N = f.name[0].toUpperCase() + camel(f.name).slice(1);
  ts += `
/** Arguments of \`${f.name}\` (C: fop_${f.name}_t). */
export interface ${N}Args {
${f.args.fields.map(fieldTs).join('\n')}
}
/** Reply of \`${f.name}\` (C: fop_${f.name}_cbk_t). */
export interface ${N}Reply {
${f.cbk.fields.map(fieldTs).join('\n')}
}`;
}
ts += `

/** Arguments of each fop, by name. */
export interface FopArgs {
${fops.map((f) => `  ${f.name}: ${f.name[0].toUpperCase() + camel(f.name).slice(1)}Args;`).join('\n')}
}
/** Reply of each fop, by name. */
export interface FopReplies {
${fops.map((f) => `  ${f.name}: ${f.name[0].toUpperCase() + camel(f.name).slice(1)}Reply;`).join('\n')}
}

/** The fop handlers a Translator may define: one method per fop JS can handle. */
export interface FopHandlers {
${fops.filter((f) => f.js).map((f) => `  /** \`${f.name}\`: wind with \`op.wind()\`, answer with a reply, or \`op.fail(errno)\`. */\n  ${f.name}?(op: Op<'${f.name}'>): HandlerResult<'${f.name}'> | Promise<HandlerResult<'${f.name}'>>;`).join('\n')}
}
`;

const check = process.argv.includes('--check');
const stale = [];
const write = (p, s) => {
  const f = path.join(root, p);
  if (fs.existsSync(f) && fs.readFileSync(f, 'utf8') === s) return;
  if (check) stale.push(p); else fs.writeFileSync(f, s);
};

// ---------------------------------------------------------------- reference
const TS_DOC = { ...TS_OF_KIND, data: 'Buffer (iovec + count + iobref)', entries: 'DirEntry[]' };
let md = `# Fop reference

Generated by \`tools/gen-fops.mjs\` from GlusterFS's \`xlator.h\` (${header}). Every
fop of \`struct xlator_fops\`, with the fields of its \`op\` (arguments) and of its
reply, as a handler sees them. Names are the C parameter names in camelCase; the
types are in \`lib/types.ts\`. "C" is the C parameter each field stands for.
A fop the translator originates (\`this.children[i].<fop>(args)\`) takes the same
argument fields by name, every one optional but its loc or fd, and resolves to
the same reply.

| fop | GF_FOP | JS handler |
|---|---:|---|
${fops.map((f) => `| [\`${f.name}\`](#${f.name}) | ${f.code} | ${f.js ? 'yes' : 'no: passed through in C'} |`).join('\n')}
`;
const row = (p) => `| \`${p.js}\` | \`${TS_DOC[p.kind]}\` | \`${p.ctype} ${p.parts ? p.parts.join(', ') : p.cname}\` |`;
for (const f of fops) {
  md += `\n## ${f.name}\n\n`;
  md += f.js
    ? `\`async ${f.name}(op: Op<'${f.name}'>)\`: return \`op.wind()\`'s reply (edited or not), a made-up reply, \`op.fail(errno)\` or \`op.forward()\`.\n\n`
    : `Carries a value glujs cannot hold past the call; always passed through in C (a handler is refused at load).\n\n`;
  md += `Arguments (\`op.<field>\`):\n\n| field | type | C |\n|---|---|---|\n${f.args.fields.map(row).join('\n')}\n\n`;
  md += `Reply:\n\n| field | type | C |\n|---|---|---|\n${f.cbk.fields.map(row).join('\n')}\n`;
}

// ---------------------------------------------------------------- shared constants
const C = (s) => s.toUpperCase().replace(/-/g, '_');
const pascal = (s) => s.replace(/(^|-)([a-z])/g, (_, __, ch) => ch.toUpperCase());
const hdr = `/* Generated by tools/gen-fops.mjs from tools/shared.mjs. Do not edit. */
#ifndef GLUJS_GEN_SHARED_H
#define GLUJS_GEN_SHARED_H

#include <stdint.h>

/* Value kinds: what one fop field is, as it crosses the bridge. */
typedef enum {
${KINDS.map((k) => `    GJ_${C(k)},`).join('\n')}
    GJ_KIND_MAX
} gj_kind_t;

/* Events without a reply: notify and the inode/fd callbacks. */
enum {
${EVENTS.map((e) => `    GJ_EV_${C(e)},`).join('\n')}
    GJ_EV_MAX
};

/* Log levels of gj_log. */
enum {
${LOG_LEVELS.map((l) => `    GJ_LOG_${C(l)},`).join('\n')}
};

/* Dict value types, as JS sees them. */
enum {
${DICT_TYPES.map(([t]) => `    GJ_DV_${C(t)},`).join('\n')}
};

/* glujs's own volfile options. */
${OPTIONS.map((o) => `#define GJ_OPT_${C(o.name)} "${o.name}"${o.native ? '' : ' /* read by the runtime only */'}`).join('\n')}

/* The native answer table's counters; GJ_FAST_COUNTERS(X) lists them as X(name, description). */
#define GJ_FAST_COUNTERS(X) \\
${FAST_COUNTERS.map(([n, d]) => `    X(${n}, "${d}")`).join(' \\\n')}
typedef struct {
#define GJ_FAST_FIELD(name, desc) uint64_t name;
    GJ_FAST_COUNTERS(GJ_FAST_FIELD)
#undef GJ_FAST_FIELD
} gj_fast_stats_t;

#endif
`;
const sharedTs = `// Generated by tools/gen-fops.mjs from tools/shared.mjs. Do not edit.

/** Value kinds, in the order of native/gen/shared.h's gj_kind_t. */
export const KINDS = ${JSON.stringify(KINDS)} as const;

/** Events without a reply (notify, forget, release, ...), by their GJ_EV_* code. */
export const EVENTS = ${JSON.stringify(EVENTS)} as const;
export type EventName = (typeof EVENTS)[number];

/** Log levels of native.log, by name. */
export const LOG_LEVEL = { ${LOG_LEVELS.map((l, i) => `${l}: ${i}`).join(', ')} } as const;

/** The GlusterFS type of a Dict value. */
export enum DictType { ${DICT_TYPES.map(([, n], i) => `${n} = ${i}`).join(', ')} }

/** glujs's own volfile options: never handed to the module as this.options. */
export const OWN_OPTIONS = ${JSON.stringify(OPTIONS.map((o) => o.name))} as const;

/** The native answer table's counters (FastPath.stats()). */
export const FAST_COUNTERS = ${JSON.stringify(FAST_COUNTERS.map(([n]) => n))} as const;
/** The native answer table's counters${FAST_COUNTERS.map(([n, d]) => `\n *  - ${n}: ${d}`).join('')} */
export type FastStats = Record<(typeof FAST_COUNTERS)[number], number>;
`;

fs.mkdirSync(path.join(root, 'native/gen'), { recursive: true });
fs.mkdirSync(path.join(root, 'docs'), { recursive: true });
write('docs/fops.md', md);
fs.mkdirSync(path.join(root, 'lib/gen'), { recursive: true });
write('native/gen/fops.c', c);
// the GlusterFS version these headers belong to (glujs install checks it)
let glusterVersion = process.env.GLUJS_GLUSTER_VERSION;
try { glusterVersion ??= /glusterfs (\d+\.\d+(?:\.\d+)?)/.exec(execFileSync('glusterfs', ['--version'], { encoding: 'utf8' }))?.[1]; } catch { /* not installed */ }
write('native/gen/build-info.h', `/* Generated by tools/gen-fops.mjs. */\n#define GJ_BUILT_FOR "${glusterVersion ?? 'unknown'}"\n`);
write('lib/gen/fops.ts', ts);
write('native/gen/shared.h', hdr);
write('lib/gen/shared.ts', sharedTs);
if (check) {
  if (stale.length) { console.error(`gen-fops --check: out of date: ${stale.join(', ')} (run npm run gen)`); process.exit(1); }
  console.log('gen-fops --check: every generated file is current');
  process.exit(0);
}
console.log(`gen-fops: ${fops.length} fops (${fops.filter((f) => f.js).length} with JS handlers) from ${header}`);
