#!/usr/bin/env node
// Reads the ASan/LSan logs of the GlusterFS daemons (ASAN_OPTIONS log_path)
// and sorts every leak record into three piles:
//   ours:    a frame of the allocation stack is in glujs (the .node/.so or
//            native/): always a failure, never suppressed;
//   known:   no glujs frame, and the stack matches an entry of
//            scripts/lsan-known.txt (GlusterFS's or OpenSSL's own, each with
//            its reason and the run that showed it happens without glujs);
//   unknown: anything else in a program glujs runs in (glusterfs,
//            glusterfsd, and test/gfapi's gfapi client glujs-gfapi-probe): a
//            failure until someone looks at it;
//   others:  leaks with no glujs frame in programs that never run glujs code
//            (glusterd and the helpers it starts, which inherit the preload;
//            logs are named asan.<exe>.<pid>): counted, not judged.
// Any other sanitizer error also fails. LSan's own suppressions are not used
// on purpose: they match any frame, so `iobuf_get2` would hide our leaks too.
// Usage: node scripts/lsan-triage.mjs LOGDIR [KNOWN]    exit 1 on a failure
import fs from 'node:fs';
import path from 'node:path';

const [dir, knownFile = new URL('./lsan-known.txt', import.meta.url).pathname] = process.argv.slice(2);
if (!dir) { console.error('usage: lsan-triage.mjs LOGDIR [KNOWN]'); process.exit(2); }

/** known entries: `name: frame > frame > ...`, each a substring of consecutive frames from #1. */
const known = fs.readFileSync(knownFile, 'utf8').split('\n')
  .map((l) => l.trim()).filter((l) => l && !l.startsWith('#'))
  .map((l) => {
    const m = /^([\w.-]+):\s*(.+)$/.exec(l);
    if (!m) throw new Error(`${knownFile}: cannot read ${JSON.stringify(l)}`);
    return { name: m[1], frames: m[2].split('>').map((s) => s.trim()) };
  });
const ours = (frame) => /glujs[\w.-]*\.(node|so)|\/native\/(gluster|node|gen)\//.test(frame);

const piles = { ours: [], known: new Map(), unknown: [], others: new Map() };
/** Programs glujs runs in: their leaks are judged. Logs without an exe name are judged too. */
const HOSTS = new Set(['glusterfs', 'glusterfsd', 'glujs-gfapi-probe']);
let errors = [], othersErrors = [], files = 0;
for (const f of fs.existsSync(dir) ? fs.readdirSync(dir).sort() : []) {
  const text = fs.readFileSync(path.join(dir, f), 'utf8');
  const exe = /^[^.]+\.(.+)\.\d+$/.exec(f)?.[1];
  files++;
  // an error report runs from its ERROR line to its SUMMARY line
  for (const m of text.matchAll(/ERROR: (\w+Sanitizer): ([^\n]*)([\s\S]*?)(?=\nSUMMARY:|$)/g)) {
    if (m[1] === 'LeakSanitizer' && m[2].startsWith('detected memory leaks')) continue;
    const line = `${f}: ERROR: ${m[1]}: ${m[2]}`;
    if (exe && !HOSTS.has(exe) && !m[3].split('\n').some(ours)) othersErrors.push(line);
    else errors.push(line);
  }
  for (const m of text.matchAll(/^(Direct|Indirect) leak of (\d+) byte\(s\) in (\d+) object\(s\) allocated from:\n((?:    #\d+ [^\n]*\n?)+)/gm)) {
    const frames = m[4].trimEnd().split('\n').map((l) => l.replace(/^\s*#\d+ 0x[0-9a-f]+ /, '').replace(/^in /, ''));
    const rec = { file: f, kind: m[1], bytes: +m[2], objects: +m[3], frames, text: m[0] };
    if (frames.some(ours)) { piles.ours.push(rec); continue; }
    if (exe && !HOSTS.has(exe)) {
      const o = piles.others.get(exe) ?? { records: 0, bytes: 0 };
      o.records++; o.bytes += rec.bytes;
      piles.others.set(exe, o);
      continue;
    }
    const body = frames.slice(1);
    const hit = known.find((k) => k.frames.every((pat, i) => body[i] !== undefined && body[i].includes(pat)));
    if (hit) {
      const p = piles.known.get(hit.name) ?? { records: 0, bytes: 0, processes: new Set() };
      p.records++; p.bytes += rec.bytes; p.processes.add(f);
      piles.known.set(hit.name, p);
    } else piles.unknown.push(rec);
  }
}

console.log(`LeakSanitizer triage of ${dir}: ${files} log file(s)`);
for (const [name, p] of piles.known) console.log(`  known  ${name}: ${p.records} record(s), ${p.bytes} bytes, in ${p.processes.size} process(es)`);
for (const [exe, o] of piles.others) console.log(`  not judged: ${exe} (runs no glujs code): ${o.records} record(s), ${o.bytes} bytes`);
for (const [label, list] of [['ours', piles.ours], ['unknown', piles.unknown]]) {
  console.log(`  ${label}: ${list.length} record(s)`);
  const seen = new Set();
  for (const r of list) {
    const key = r.frames.join('\n');
    if (seen.has(key)) continue;
    seen.add(key);
    console.log(`\n  [${r.file}]\n${r.text.replace(/^/gm, '    ')}`);
  }
}
for (const e of othersErrors) console.log(`  not judged: sanitizer error in a program that runs no glujs code: ${e}`);
for (const e of errors) console.log(`  sanitizer error: ${e}`);
const failed = piles.ours.length + piles.unknown.length + errors.length;
console.log(failed ? `FAILED: ${failed} finding(s)` : 'clean: no leak or sanitizer error from glujs, nothing unexplained in the GlusterFS daemons');
process.exit(failed ? 1 : 0);
