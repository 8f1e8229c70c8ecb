// The fault matrix: "glujs never takes the daemon down". Every way a translator
// module can misbehave, crossed with lookup, create, writev and readdirp on a
// real brick and FUSE mount (test/fixtures/fault-matrix.ts misbehaves on a
// trigger). For every cell: the daemon stays alive, the fop completes with a
// defined errno within handler-timeout + 1 s, the log names the translator and
// the cause, and the next fops work. Start-up faults (a throwing constructor or
// init()) must fail the mount cleanly with the cause in the log.
//
// Prints a table (fault x fop -> errno, ms, daemon alive, log lines, next fops) and totals;
// GLUJS_WRITE_RESULTS=1 also writes it to bench/results/fault-matrix.md.
process.env.UV_THREADPOOL_SIZE ??= '16'; // a hung fop holds a libuv thread; keep others free

import test, { type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { withVolume, tryStartVolume, type Volume } from '../lib/testing';
import { run } from '../lib/testing/proc';
import { fixture, glujs, alive, sleep, until, ROOT } from './util';

const XL = 'fm';
const HANDLER_TIMEOUT_S = 2;
const WATCHDOG_S = 1;
/** The oom cell's handler-timeout: the heap limit must come first. */
const OOM_TIMEOUT_S = process.env.GLUJS_SANITIZED === '1' ? 12 : 4;
/** A fault's fop must complete within handler-timeout + 1 s. */
const deadlineMs = (f: Fault) => Number(f.options?.['handler-timeout'] ?? HANDLER_TIMEOUT_S) * 1000 + 1000;
/** Past this a fop counts as hung (the test stops waiting for it). */
const HUNG_MS = 10000;
const FOPS = ['lookup', 'create', 'writev', 'readdirp'] as const;
type Fop = (typeof FOPS)[number];

const EIO = ['EIO'];
/** The child's own answer (the fault happens beside the fop, not in its answer). */
const CHILD = { lookup: ['ENOENT'], create: ['ok'], writev: ['ok'], readdirp: ['ok'] } as Record<Fop, string[]>;
const all = (codes: string[]) => ({ lookup: codes, create: codes, writev: codes, readdirp: codes });
const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const failed = (fop: Fop, errno: string, why: string) => new RegExp(`0-${XL}: ${fop} failed with ${esc(errno)}: ${why}`);

interface Fault {
  kind: string;
  /** what the module does (table text) */
  what: string;
  expect: Record<Fop, string[]>;
  /** the log line that names the translator and the cause for this fop */
  cause: (fop: Fop) => RegExp;
  /** the fault restarts the JS environment (the fops right after wait for the new one) */
  restarts?: boolean;
  /** glujs options for this volume */
  options?: Record<string, string | number>;
  /** known failures, by fop (or '*'): the reason, reported in the table; the cell is a TODO, not a failure */
  known?: Partial<Record<Fop | '*', string>>;
  /** more than one line naming the cause is structural here (why) */
  manyLines?: string;
  /** waits for the fault's outcome once the fop has its answer; resolves to what happened */
  settle?: (v: Volume, logFrom: number) => Promise<string>;
}

const OOM_WAIT_MS = 60000;
/** Runaway memory: the daemon dies, or the environment restarts (or neither within OOM_WAIT_MS). */
async function oomOutcome(v: Volume, from: number): Promise<string> {
  for (const end = Date.now() + OOM_WAIT_MS; Date.now() < end; await sleep(100)) {
    if (!alive(v.clientPids[0])) {
      const sig = /signal received: (\d+)/.exec(logSince(v, from))?.[1];
      return `the daemon died${sig ? ` (signal ${sig}${/FatalProcessOutOfMemory/.test(logSince(v, from)) ? ' in v8::internal::V8::FatalProcessOutOfMemory' : ''})` : ''}`;
    }
    if (/0-fm: restarting the JS environment/.test(logSince(v, from))) return 'the environment restarted';
  }
  return `neither a restart nor a crash within ${OOM_WAIT_MS} ms`;
}


const FAULTS: Fault[] = [
  { kind: 'throw', what: 'the handler throws synchronously', expect: all(EIO),
    cause: (f) => failed(f, 'Input/output error', `the handler threw: Error: fault-matrix: ${f} throws on purpose`) },
  { kind: 'reject', what: 'the handler rejects', expect: all(EIO),
    cause: (f) => failed(f, 'Input/output error', `the handler rejected: Error: fault-matrix: ${f} rejects on purpose`) },
  { kind: 'hang', what: 'the handler never completes', expect: all(['ETIMEDOUT']),
    cause: (f) => failed(f, 'Connection timed out', `no answer from the JS handler within handler-timeout \\(${HANDLER_TIMEOUT_S * 1000} ms\\)`) },
  { kind: 'reply-then-fail', what: 'op.fail(EPERM), then returns the wound reply', expect: all(['EPERM']),
    cause: (f) => new RegExp(`0-${XL}: ${f}: the handler returned a reply after the op had completed; discarded`) },
  { kind: 'fail-twice', what: "op.fail('EPERM') then op.fail('EACCES')", expect: all(['EPERM']),
    cause: () => new RegExp(`0-${XL}: .*(already completed|after the op had completed)`) },
  { kind: 'wind-after-fail', what: "op.fail('EPERM') then op.wind()", expect: all(['EPERM']),
    cause: () => new RegExp(`0-${XL}: .*(already completed|after the op had completed)`) },
  { kind: 'late-read', what: 'reads op.xdata in a timer after completion', expect: CHILD,
    cause: () => new RegExp(`0-${XL}: uncaught exception: Error: this op has already completed`) },
  { kind: 'late-wind', what: 'calls op.wind() in a timer after completion', expect: CHILD,
    cause: () => new RegExp(`0-${XL}: unhandled rejection: Error: this op has already completed`) },
  { kind: 'bad-type', what: "returns {opRet: 'x'}", expect: all(EIO),
    cause: (f) => failed(f, 'Input/output error', "malformed reply: TypeError: opRet must be an integer, not 'x'") },
  { kind: 'bad-negative', what: 'returns {opRet: -1} without opErrno', expect: all(EIO),
    cause: (f) => failed(f, 'Input/output error', 'malformed reply: TypeError: a negative opRet needs an opErrno') },
  { kind: 'bad-iatt', what: "wound reply's iatt set to {mode: 'abc'}", expect: all(EIO),
    cause: (f) => failed(f, 'Input/output error', f === 'readdirp'
      ? 'malformed reply: TypeError: readdirp reply.entries\\[0\\]: expected \\{name, ino, off, type, stat\\}'
      : `malformed reply: TypeError: ${f} reply.${f === 'writev' ? 'postbuf' : 'buf'}: expected an Iatt object`) },
  { kind: 'bad-dirents', what: 'entries: [{name: 5}]', expect: all(EIO),
    cause: (f) => failed(f, 'Input/output error', f === 'readdirp'
      ? 'malformed reply: TypeError: readdirp reply.entries\\[0\\]: expected \\{name, ino, off, type, stat\\}'
      : `malformed reply: TypeError: a ${f} reply has no field 'entries'`) },
  { kind: 'bad-buffer', what: 'a Buffer as opErrno (readdirp: as an entry name)', expect: all(EIO),
    cause: (f) => failed(f, 'Input/output error', f === 'readdirp'
      ? 'malformed reply: TypeError: readdirp reply.entries\\[0\\]: expected \\{name, ino, off, type, stat\\}'
      : 'malformed reply: TypeError: not an errno') },
  { kind: 'spin', what: `for (;;) {} (watchdog ${WATCHDOG_S} s)`, expect: all(EIO), restarts: true,
    cause: (f) => failed(f, 'Input/output error', `the JS environment was restarted: JS ran synchronously for more than ${WATCHDOG_S * 1000} ms`),
    manyLines: 'also: the watchdog line, "restarting the JS environment", and one line per queued fop' },
  // heap-limit is small and handler-timeout longer here, so that the heap limit (not the timeout) ends the fop
  // even on a loaded machine (under ASan, filling 256 MB takes about 5 s)
  { kind: 'oom', what: `allocates until the V8 heap limit (heap-limit 256MB, handler-timeout ${OOM_TIMEOUT_S} s, watchdog ${OOM_TIMEOUT_S + 1} s)`,
    expect: all(EIO), restarts: true, options: { 'handler-timeout': OOM_TIMEOUT_S, watchdog: OOM_TIMEOUT_S + 1, 'heap-limit': '256MB' }, settle: oomOutcome,
    cause: (f) => failed(f, 'Input/output error', 'the JS environment was restarted: the JS heap reached its limit \\(\\d+ MB\\)'),
    manyLines: 'also: "the JS heap reached its limit (N MB); terminating it" and "restarting the JS environment"' },
  { kind: 'exit', what: 'process.exit(7)', expect: all(EIO), restarts: true,
    cause: (f) => failed(f, 'Input/output error', 'the JS environment was restarted: the module called process.exit\\(7\\)'),
    manyLines: 'also: "the module called process.exit(7); its environment is stopped" and "restarting the JS environment"' },
  { kind: 'abort', what: 'process.abort()', expect: all(EIO),
    cause: (f) => failed(f, 'Input/output error', 'the handler threw: Error: process.abort\\(\\) is not allowed inside a GlusterFS daemon') },
  { kind: 'sigterm', what: "process.on('SIGTERM', fn), then winds", expect: CHILD,
    cause: () => new RegExp(`0-${XL}: process.on\\('SIGTERM'\\) ignored: signals belong to the GlusterFS daemon`) },
  { kind: 'timer-throw', what: 'setTimeout(() => { throw }), then winds', expect: CHILD,
    cause: (f) => new RegExp(`0-${XL}: uncaught exception: Error: fault-matrix: ${f} timer throws on purpose`) },
  { kind: 'unhandled', what: 'an unhandled rejection, then winds', expect: CHILD,
    cause: (f) => new RegExp(`0-${XL}: unhandled rejection: Error: fault-matrix: ${f} unhandled rejection on purpose`) },
];

interface Cell {
  fault: string; fop: Fop | 'start-up' | 'SIGTERM' | 'umount'; errno: string; ms: number; alive: boolean;
  logLines: number; allLines: number; recovered: boolean; recoverMs: number; hung: boolean;
  problems: string[]; known?: string; notes: string[];
}
const cells: Cell[] = [];
let crashes = 0, hung = 0, trials = 0;

/** Runs `p` with a guard: resolves to its errno ('ok' on success) and duration; 'HUNG' past HUNG_MS. */
async function timed(p: () => Promise<unknown>, limit = HUNG_MS): Promise<{ code: string; ms: number }> {
  const t0 = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const guard = new Promise<string>((r) => { timer = setTimeout(() => r('HUNG'), limit); });
  const run = p().then(() => 'ok', (e: NodeJS.ErrnoException) => e?.code ?? String(e));
  const code = await Promise.race([run, guard]);
  clearTimeout(timer);
  return { code, ms: Math.round(performance.now() - t0) };
}

const logSince = (v: Volume, from: number) => v.log(0).slice(from);
const countLines = (text: string, re: RegExp) => text.split('\n').filter((l) => re.test(l)).length;
/** An error or warning line of the translator (glujs's own, or GlusterFS's about it). */
const EW_LINE = new RegExp(`^\\[[^\\]]*\\] [EW] .*?\\] 0-${XL}: `);
const sigCgt = (pid: number) => /^SigCgt:\s+(\w+)/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? '?';

/**
 * The next fops work: create + write (through JS), read back, list, a negative
 * lookup (through JS). Retried while the environment restarts (ENOTCONN).
 */
async function recover(v: Volume, tag: string, withinMs: number): Promise<{ ok: boolean; ms: number; last: string; errors: string[] }> {
  const d = path.join(v.mount, 'd');
  const t0 = performance.now();
  let last = '';
  const errors: string[] = [];
  for (let attempt = 0; performance.now() - t0 < withinMs; attempt++) {
    const name = `ok-${tag}-${attempt}`, f = path.join(d, name);
    const steps: [string, () => Promise<unknown>][] = [
      ['write', () => fsp.writeFile(f, `after ${tag}`)],
      ['read', async () => { const s = await fsp.readFile(f, 'utf8'); if (s !== `after ${tag}`) throw new Error(`read back ${JSON.stringify(s)}`); }],
      ['list', async () => { if (!(await fsp.readdir(d)).includes(name)) throw new Error(`${name} not listed`); }],
      ['lookup', async () => {
        const r = await timed(() => fsp.stat(path.join(d, `missing-${tag}-${attempt}`)), 5000);
        if (r.code !== 'ENOENT') throw Object.assign(new Error(`negative lookup: ${r.code}`), { code: r.code });
      }],
    ];
    let ok = true;
    for (const [what, step] of steps) {
      const r = await timed(step, 5000);
      if (r.code !== 'ok') { ok = false; last = `${what}: ${r.code}`; errors.push(last); break; }
    }
    if (ok) return { ok: true, ms: Math.round(performance.now() - t0), last: '', errors };
    await sleep(100);
  }
  return { ok: false, ms: Math.round(performance.now() - t0), last, errors };
}

async function faultVolume(t: TestContext, f: Fault): Promise<Volume> {
  const v = await withVolume(t, {
    client: [glujs(XL, fixture('fault-matrix.ts'), { 'handler-timeout': HANDLER_TIMEOUT_S, watchdog: WATCHDOG_S, fault: f.kind, ...f.options })],
  });
  await fsp.mkdir(path.join(v.mount, 'd'));
  await fsp.mkdir(path.join(v.mount, 'q'));
  return v;
}

/** One fault x fop cell. */
async function runCell(v: Volume, f: Fault, fop: Fop, i: number): Promise<Cell> {
  const pid = v.clientPids[0];
  const d = path.join(v.mount, 'd');
  const cell: Cell = { fault: f.kind, fop, errno: '', ms: 0, alive: false, logLines: 0, allLines: 0, recovered: false,
    recoverMs: 0, hung: false, problems: [], notes: [], known: f.known?.[fop] ?? f.known?.['*'] };
  let cleanup: (() => Promise<unknown>) | undefined;
  let call: () => Promise<unknown>;
  switch (fop) {
    // access(2), not stat: libuv retries a statx that fails with EPERM as stat(2), a second lookup
    case 'lookup': call = () => fsp.access(path.join(d, `L-${i}`)); break;
    case 'create': call = async () => { const fh = await fsp.open(path.join(d, `C-${i}`), 'w'); await fh.close(); }; break;
    case 'writev': {
      const fh = await fsp.open(path.join(d, `W-${i}`), 'w');
      call = () => fh.write(Buffer.from(`FAULT:${f.kind}`));
      cleanup = () => fh.close();
      break;
    }
    case 'readdirp': {
      // made on the brick, so that the mount's first access is a lookup (which teaches the module its gfid)
      fs.mkdirSync(path.join(v.brickDir, 'd', `R-${i}`));
      fs.writeFileSync(path.join(v.brickDir, 'd', `R-${i}`, 'inside'), 'x');
      call = () => fsp.readdir(path.join(d, `R-${i}`));
      break;
    }
  }
  // the queued lookup's parent must be fresh in the kernel's cache, so that only the queued name reaches JS
  if (f.kind === 'spin') await fsp.stat(path.join(v.mount, 'q'));
  const sig0 = sigCgt(pid);
  const from = v.log(0).length;
  trials++;
  const fault = timed(call);
  // the watchdog fails the stuck fop and every fop queued behind it
  let queued: Promise<{ code: string; ms: number }> | undefined;
  if (f.kind === 'spin') {
    await sleep(300);
    queued = timed(() => fsp.stat(path.join(v.mount, 'q', `queued-${i}`)));
  }
  const r = await fault;
  cell.errno = r.code;
  cell.ms = r.ms;
  if (r.code === 'HUNG') { cell.hung = true; hung++; }
  if (queued) {
    const q = await queued;
    cell.notes.push(`a lookup queued behind it: ${q.code} in ${q.ms} ms${fop === 'lookup' ? ' (its line is among the cause lines)' : ''}`);
    if (q.code === 'HUNG') { hung++; cell.problems.push('the queued lookup hung'); }
    else if (!['EIO', 'ENOTCONN'].includes(q.code)) cell.problems.push(`the queued lookup got ${q.code}`);
  }
  if (cleanup) {
    const c = await timed(cleanup, 5000);
    if (c.code === 'HUNG') { hung++; cell.problems.push('close() after the fault hung'); }
  }
  if (f.settle) {
    // the fop has its answer, but the fault runs on (oom): wait for its outcome before judging the cell
    const t0 = Date.now();
    const outcome = await f.settle(v, from);
    cell.notes.push(`${outcome} ${Date.now() - t0 + cell.ms} ms after the fault began`);
  }
  // lines that come from timers (late use, timer throws) need a moment
  for (const end = Date.now() + 2000; Date.now() < end && !f.cause(fop).test(logSince(v, from)); ) await sleep(50);
  const rec = await recover(v, `${f.kind}-${fop}`, f.restarts ? 10000 : 5000);
  cell.recovered = rec.ok;
  cell.recoverMs = rec.ms;
  await sleep(100);
  cell.alive = alive(pid);
  const text = logSince(v, from);
  cell.logLines = countLines(text, f.cause(fop));
  cell.allLines = countLines(text, EW_LINE);
  if (/signal received: \d+|pending frames:/.test(text)) cell.problems.push('the log shows a crash (signal received)');
  if (f.kind === 'sigterm') {
    const sig1 = alive(pid) ? sigCgt(pid) : '?';
    cell.notes.push(`SigCgt ${sig0} -> ${sig1}`);
    if (sig0 !== sig1) cell.problems.push(`the daemon's caught signals changed: SigCgt ${sig0} -> ${sig1}`);
  }
  if (!cell.alive) { crashes++; cell.problems.push('the daemon died'); }
  if (!cell.hung && !f.expect[fop].includes(cell.errno)) cell.problems.push(`errno ${cell.errno}, expected ${f.expect[fop].join(' or ')}`);
  if (!cell.hung && cell.ms > deadlineMs(f)) cell.problems.push(`completed after ${cell.ms} ms (> ${deadlineMs(f)})`);
  if (cell.hung) cell.problems.push(`the fop hung (> ${HUNG_MS} ms)`);
  if (cell.logLines === 0) cell.problems.push(`no log line matches ${f.cause(fop)}`);
  else if (cell.logLines > 1 && !f.manyLines) cell.problems.push(`${cell.logLines} log lines match ${f.cause(fop)} (expected one)`);
  if (!cell.recovered) cell.problems.push(`the next fops do not work: ${rec.last}`);
  // fops that come while an environment restarts wait for the new one
  if (rec.errors.length) cell.problems.push(`the next fops failed before they worked: ${rec.errors.join(', ')}`);
  if (cell.problems.length) {
    const ctx = text.split('\n').filter((l) => l.includes(`0-${XL}:`)).slice(0, 12).join('\n');
    cell.notes.push(`log:\n${ctx}`);
  }
  return cell;
}

const only = process.env.GLUJS_FAULTS?.split(',');

for (const f of FAULTS) {
  if (only && !only.includes(f.kind)) continue;
  test(`fault matrix: ${f.kind} (${f.what})`, async (t) => {
    let v = await faultVolume(t, f);
    const mine: Cell[] = [];
    for (const [i, fop] of FOPS.entries()) {
      if (!alive(v.clientPids[0])) {
        // the previous cell took the daemon down (recorded there): a new volume for the next one
        await v.stop();
        v = await faultVolume(t, f);
      }
      const c = await runCell(v, f, fop, i);
      mine.push(c);
      cells.push(c);
    }
    for (const c of mine) {
      await t.test(`${f.kind} x ${c.fop}`, { todo: c.known }, () => {
        assert.deepEqual(c.problems, [], `${f.kind} x ${c.fop}: ${c.problems.join('; ')}\n${c.notes.join('\n')}`);
      });
    }
  });
}

// Start-up faults: the mount fails cleanly and the log says why.
const STARTUP: Array<{ kind: string; cause: RegExp; noModule?: boolean }> = [
  { kind: 'no-module', noModule: true, cause: /0-fm: option module is required: the path of the translator module/ },
  { kind: 'ctor', cause: /0-fm: cannot load translator module .*fault-matrix\.ts: Error: fault-matrix: the constructor throws on purpose/ },
  { kind: 'init', cause: /0-fm: cannot load translator module .*fault-matrix\.ts: Error: fault-matrix: init\(\) throws on purpose/ },
  { kind: 'init-reject', cause: /0-fm: cannot load translator module .*fault-matrix\.ts: Error: fault-matrix: init\(\) rejects on purpose/ },
];
for (const s of STARTUP) {
  if (only && !only.includes(s.kind)) continue;
  test(`fault matrix: start-up, ${s.kind} fails`, async () => {
    trials++;
    const t0 = performance.now();
    const spec = glujs(XL, fixture('fault-matrix.ts'), { startup: s.kind });
    if (s.noModule) delete spec.options!.module;
    const r = await tryStartVolume({ client: [spec] });
    const ms = Math.round(performance.now() - t0);
    const cell: Cell = { fault: `start-up: ${s.kind}`, fop: 'start-up', errno: r.ok ? 'mounted' : 'mount failed', ms,
      alive: false, logLines: 0, allLines: 0, recovered: true, recoverMs: 0, hung: false, problems: [], notes: [] };
    cells.push(cell);
    if (r.ok) {
      await r.volume.stop();
      cell.problems.push('the mount came up');
    } else {
      cell.logLines = countLines(r.clientLog, s.cause);
      cell.allLines = countLines(r.clientLog, EW_LINE);
      if (cell.logLines !== 1) cell.problems.push(`${cell.logLines} log lines match ${s.cause}`);
      if (/signal received: \d+|pending frames:/.test(r.clientLog)) { crashes++; cell.problems.push('the client crashed at start-up'); }
      const mnt = /\((\/[^)]*\/mnt0)\)/.exec(r.error)?.[1];
      if (!mnt) cell.problems.push(`cannot tell the mount point from: ${r.error.split('\n')[0]}`);
      else if (fs.readFileSync('/proc/mounts', 'utf8').split('\n').some((l) => l.split(' ')[1] === mnt)) cell.problems.push(`${mnt} is still mounted`);
    }
    assert.deepEqual(cell.problems, [], `${cell.problems.join('; ')}\n${r.ok ? '' : r.clientLog.split('\n').filter((l) => / [EW] /.test(l)).slice(-10).join('\n')}`);
  });
}

// The daemon is stopped right after a fault restarted its environment
// (process.exit in a handler): it exits, and its log shows no crash.
for (const how of ['SIGTERM', 'umount'] as const) {
  if (only && !only.includes('exit')) continue;
  test(`fault matrix: stop while restarting (${how})`, async (t) => {
    const f = FAULTS.find((x) => x.kind === 'exit')!;
    const v = await faultVolume(t, f);
    const pid = v.clientPids[0];
    trials++;
    const r = await timed(() => fsp.access(path.join(v.mount, 'd', 'L-stop')));
    const t0 = performance.now();
    if (how === 'SIGTERM') process.kill(pid, 'SIGTERM');
    else await run('umount', [v.mount], 15_000);
    let gone = false;
    for (const end = Date.now() + HUNG_MS; Date.now() < end && !(gone = !alive(pid));) await sleep(50);
    const cell: Cell = { fault: 'stop while restarting', fop: how, errno: r.code, ms: Math.round(performance.now() - t0),
      alive: !gone, logLines: 0, allLines: 0, recovered: true, recoverMs: 0, hung: false, problems: [], notes: [] };
    const text = v.log(0);
    cell.logLines = countLines(text, /0-fm: restarting the JS environment/);
    cell.allLines = countLines(text, EW_LINE);
    if (r.code !== 'EIO') cell.problems.push(`the exiting fop got ${r.code}`);
    if (!gone) cell.problems.push(`the daemon did not exit within ${HUNG_MS} ms`);
    if (/signal received: (?!15)\d+|pending frames:/.test(text)) { crashes++; cell.problems.push('the log shows a crash (signal received)'); }
    if (cell.logLines !== 1) cell.problems.push(`${cell.logLines} restarts logged (one expected)`);
    cells.push(cell);
    assert.deepEqual(cell.problems, [], `${cell.problems.join('; ')}\n${text.split('\n').slice(-30).join('\n')}`);
  });
}

// The daemon is stopped (SIGTERM) in the other states of an environment's
// life: starting (init() at mount time), reloading (the new environment's
// init() during a hot reload) and stopping (fini() during an unmount). It
// exits, and its log shows no crash. ("cause lines": the hook's start line.)
const STOP_IN: { state: 'starting' | 'reloading' | 'stopping'; hook: RegExp }[] = [
  { state: 'starting', hook: /slow-hooks init starts/ },
  { state: 'reloading', hook: /slow-hooks init starts/ },
  { state: 'stopping', hook: /slow-hooks fini starts/ },
];
for (const { state, hook } of STOP_IN) {
  if (only && !only.includes('exit')) continue;
  test(`fault matrix: stop while ${state} (SIGTERM)`, async (t) => {
    trials++;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'glujs-stop-'));
    t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
    const mod = path.join(dir, 'slow-hooks.ts');
    fs.copyFileSync(fixture('slow-hooks.ts'), mod);
    let pid = 0, text = () => '', r = { code: 'n/a', ms: 0 };
    let starting: Promise<unknown> | undefined;
    if (state === 'starting') {
      // the mount cannot come up before init() ends: find the client by its files
      starting = tryStartVolume({ dir, client: [glujs(XL, mod, { 'init-ms': 8000 })] });
      const found = await until(() => {
        for (const d of fs.readdirSync(dir).filter((x) => x.startsWith('glujs-'))) {
          const log = path.join(dir, d, 'client0.log'), pidFile = path.join(dir, d, 'client0.pid');
          if (fs.existsSync(pidFile) && fs.existsSync(log) && /slow-hooks init starts/.test(fs.readFileSync(log, 'utf8')))
            return { pid: Number(fs.readFileSync(pidFile, 'utf8')), log };
        }
        return undefined;
      }, 20_000, 'init() to start');
      pid = found.pid;
      let last = '';
      // the failed start removes its directory: the log then comes with the result
      text = () => (last = fs.existsSync(found.log) ? fs.readFileSync(found.log, 'utf8') : last);
    } else {
      const v = await withVolume(t, { client: [glujs(XL, mod, state === 'stopping' ? { 'fini-ms': 8000 } : { watch: 'on' })] });
      pid = v.clientPids[0];
      text = () => v.log(0);
      if (state === 'reloading') {
        fs.writeFileSync(mod, fs.readFileSync(mod, 'utf8').replace("'init-ms': { type: 'number', default: 0 }", "'init-ms': { type: 'number', default: 8000 }"));
        await until(() => countLines(text(), hook) >= 2, 10_000, 'the reload\'s init() to start');
        r = await timed(() => fsp.access(v.mount)); // the old environment still serves meanwhile
      } else {
        void run('umount', [v.mount], 20_000);
        await until(() => hook.test(text()), 10_000, 'fini() to start');
      }
    }
    const t0 = performance.now();
    process.kill(pid, 'SIGTERM');
    let gone = false;
    for (const end = Date.now() + HUNG_MS; Date.now() < end && !(gone = !alive(pid));) await sleep(50);
    const started = starting ? await starting as { ok: boolean; clientLog?: string } : undefined;
    if (started && !started.ok && started.clientLog) { const log = started.clientLog; text = () => log; }
    const cell: Cell = { fault: `stop while ${state}`, fop: 'SIGTERM', errno: r.code, ms: Math.round(performance.now() - t0),
      alive: !gone, logLines: countLines(text(), hook), allLines: countLines(text(), EW_LINE), recovered: true, recoverMs: 0,
      hung: false, problems: [], notes: [] };
    if (!gone) cell.problems.push(`the daemon did not exit within ${HUNG_MS} ms`);
    if (/signal received: (?!15)\d+|pending frames:/.test(text())) { crashes++; cell.problems.push('the log shows a crash (signal received)'); }
    if (started?.ok) {
      cell.problems.push('the mount came up');
      await (started as unknown as { volume: Volume }).volume.stop();
    }
    if (state === 'reloading' && r.code !== 'ok') cell.problems.push(`the mount did not serve during the reload: ${r.code}`);
    cells.push(cell);
    assert.deepEqual(cell.problems, [], `${cell.problems.join('; ')}\n${text().split('\n').slice(-30).join('\n')}`);
  });
}

test('fault matrix: summary', () => {
  const rows = [
    '| fault | fop | errno | ms | daemon alive | cause lines | all E/W lines | next fops | result |',
    '|---|---|---|---:|---|---:|---:|---|---|',
  ];
  for (const c of cells) {
    const result = c.problems.length ? (c.known ? `KNOWN FAILURE: ${c.known}` : `FAIL: ${c.problems.join('; ')}`) : 'ok';
    const stopped = c.fault.startsWith('stop while');
    const rec = c.fop === 'start-up' || stopped ? 'n/a' : c.recovered ? `ok (${c.recoverMs} ms)` : 'NO';
    const up = c.fop === 'start-up' ? 'n/a' : stopped ? (c.alive ? 'STILL RUNNING' : 'exited') : c.alive ? 'yes' : 'NO';
    rows.push(`| ${c.fault} | ${c.fop} | ${c.errno} | ${c.ms} | ${up} | ${c.logLines} | ${c.allLines} | ${rec} | ${result.replace(/\|/g, '\\|').replace(/\n/g, ' ')} |`);
  }
  const notes = cells.filter((c) => c.notes.some((n) => !n.startsWith('log:')))
    .map((c) => `- ${c.fault} x ${c.fop}: ${c.notes.filter((n) => !n.startsWith('log:')).join('; ')}`);
  const failedCells = cells.filter((c) => c.problems.length && !c.known);
  const knownCells = cells.filter((c) => c.problems.length && c.known);
  const totals = [
    `trials run: ${trials}`,
    `daemon crashes: ${crashes}`,
    `hung fops: ${hung}`,
    `cells failing: ${failedCells.length}`,
    `known failures: ${knownCells.length}`,
  ];
  const md = [
    '# glujs fault matrix',
    '',
    `Generated by \`test/faults.test.ts\` (handler-timeout ${HANDLER_TIMEOUT_S} s, watchdog ${WATCHDOG_S} s unless noted; ` +
      `a fop must complete within handler-timeout + 1 s). errno \`ok\` = the fop succeeded; for faults beside the answer ` +
      '(late use, timers, signals) the fop gets the child\'s own answer (lookup of a missing name: ENOENT). ' +
      '"cause lines" counts the lines `0-fm: ...` that name this fop\'s cause (one expected); "all E/W lines" counts every ' +
      'error or warning line of the translator in the cell, recovery included. "next fops" must work at the first try, ' +
      'also right after a restart (they wait for the new environment). The "stop while restarting" rows stop the daemon ' +
      'right after a fault restarted its environment ("cause lines": the restart line; the daemon must exit). The other ' +
      '"stop while" rows send SIGTERM while an environment starts (init() at mount time), reloads (the new init() of a ' +
      'hot reload; errno: a stat of the mount meanwhile) or stops (fini() during an unmount); "cause lines": the hook\'s start line.',
    '',
    ...rows,
    '',
    ...(notes.length ? ['Notes:', '', ...notes, ''] : []),
    'Totals:',
    '',
    ...totals.map((l) => `- ${l}`),
    '',
  ].join('\n');
  console.log(`\n${md}`);
  if (process.env.GLUJS_WRITE_RESULTS === '1') {
    const out = path.join(ROOT, 'bench', 'results', 'fault-matrix.md');
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.writeFileSync(out, md);
  }
  const unexpectedCrashes = cells.filter((c) => !c.known && c.problems.some((p) => /died|crash/.test(p))).length;
  assert.equal(unexpectedCrashes, 0, 'daemon crashes');
  assert.equal(hung, 0, 'hung fops');
});
