// The runtime inside the daemon: loads the translator module, turns fops from
// the native side into Op objects, runs the handlers and takes their answers
// back. Started by native/node/embed.cc's bootstrap with the linked binding.
import Module from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import util from 'node:util';
import { Writable } from 'node:stream';
import { createHash } from 'node:crypto';
import v8 from 'node:v8';
import { FOPS, type FopName } from './gen/fops';
import { EVENTS, LOG_LEVEL as LEVEL, OWN_OPTIONS as OWN, type FastStats } from './gen/shared';
import { Dict, toDict, type DictLike } from './types';
import { errnoOf } from './errno';
import { cacheDir, checkTrusted, forgetChecks, trustedEntry } from './trust';
import { FopStats, snapshot } from './stats';
import {
  COMPLETED, Translator, setPendingContext, type Completed, type FastPath, type Logger, type NotifyEvent,
  type OptionSpec, type OptionValue, type TranslatorContext, type Caller,
} from './translator';

/** process._linkedBinding('glujs'): see native/node/binding.cc. */
export interface Native {
  config(): { name: string; module: string; restarts: number; options: [string, string][]; handoff?: Buffer };
  attach(callbacks: Callbacks, names: [string[], string[]][]): void;
  loaded(error: string | null, codes?: number[], events?: number[]): void;
  arg(op: number, i: number): unknown;
  caller(op: number): Caller;
  replyField(reply: number, i: number): unknown;
  wind(op: number, args: unknown[] | undefined, cookie: number): void;
  forward(op: number, args: unknown[] | undefined): void;
  unwind(op: number, reply: number, fields: unknown[] | undefined): boolean;
  fail(op: number, errno: number, why?: string): boolean;
  release(op: number, replies: number[]): void;
  log(level: number, msg: string): void;
  publish(snapshot: string): void;
  finiDone(): void;
  handoffDone(state: Buffer | null): void;
  fastGen(): bigint;
  fastNegative(pargfid: string, name: string, gen: bigint, ttlMs: number): void;
  fastComplete(pargfid: string, names: string[], gen: bigint, ttlMs: number): void;
  fastInvalidate(pargfid?: string, name?: string): void;
  fastStats(): FastStats;
  fastLearn(ttlMs: number, maxNames: number): void;
}
interface Callbacks {
  onFop(op: number, code: number): void;
  onReply(cookie: number, reply: number): void;
  onEvent(type: number, gfid: string, flags: number, pargfid: string, oldpargfid: string): void;
  onExpired(op: number): void;
  onFini(): void;
  onHandoff(): void;
}

/** Options that are glujs's own (native/gluster/xlator.c), not the module's. */
// upcall-bricks: written by `glujs filter` (on/off: do the volume's bricks send cache invalidations?)
const OWN_OPTIONS: ReadonlySet<string> = new Set(OWN);
/** Kinds JS reads but cannot make (see FromJs in native/node/binding.cc). */
const READONLY = new Set<string>(['loc', 'fd', 'inode', 'flock', 'lease', 'locklist', 'opaque']);

type FopInfo = (typeof FOPS)[FopName];
const byCode: (FopName | undefined)[] = [];
for (const name of Object.keys(FOPS) as FopName[]) byCode[FOPS[name].code] = name;

function opDone(): Error {
  return Object.assign(new Error('this op has already completed'), { code: 'ERR_GLUJS_OP_DONE' });
}

/** Throws unless v is a plain object ({...} or Object.create(null)): a Buffer, an
 * array or a Map given as fields would be walked index by index (8 MB: seconds). */
function plainObject(v: object, what: string): void {
  const proto = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null)
    throw new TypeError(`${what} must be a plain object of fields, not ${Array.isArray(v) ? 'an array' : proto?.constructor?.name ?? 'an object'}`);
}

/** JS value -> what the native side reads for a kind (Dicts flatten; entries keep their index). */
function outgoing(kind: string, v: unknown): unknown {
  if (v === undefined || v === null) return v;
  if (kind === 'dict') return toDict(v as DictLike).toFlat();
  return v;
}
/** Native value of a kind -> JS. */
function incoming(kind: string, v: unknown): unknown {
  if (kind === 'dict' && Array.isArray(v)) return Dict.fromFlat(v);
  return v;
}

export function start(native: Native): void {
  const cfg = native.config();
  const log = makeLogger(native);
  harden(native, log);

  let translator: Translator & Record<string, any>;
  const ops = new Map<number, OpImpl>();
  const winds = new Map<number, { op: OpImpl; resolve: (r: ReplyImpl) => void; reject: (e: Error) => void }>();
  let nextCookie = 1;
  const stats = new Map<string, FopStats>();

  // ---- Op: one fop in flight; arguments are lazy getters by field index ----
  abstract class OpImpl {
    abstract readonly fop: FopName;
    abstract readonly info: FopInfo;
    completed = false;
    /** 'js': this handler answered; 'native': the timeout or a restart did */
    completedBy: 'js' | 'native' | undefined;
    readonly replies: number[] = [];
    readonly cookies = new Set<number>();
    readonly cache: unknown[] = [];
    readonly t0 = performance.now();
    constructor(readonly id: number) {}
    get done(): boolean { return this.completed; }
    #caller?: Caller;
    get caller(): Caller {
      if (this.#caller) return this.#caller;
      if (this.completed) throw opDone();
      return (this.#caller = native.caller(this.id));
    }
    argAt(i: number): unknown {
      if (i in this.cache) return this.cache[i];
      if (this.completed) throw opDone();
      return (this.cache[i] = incoming(this.info.argKinds[i], native.arg(this.id, i)));
    }
    args(overrides: Record<string, unknown> | undefined): unknown[] | undefined {
      if (overrides === undefined) return undefined;
      if (typeof overrides !== 'object' || overrides === null)
        throw new TypeError(`${this.fop}: wind() takes an object of arguments to replace`);
      plainObject(overrides, `${this.fop}: the arguments to replace`);
      const names = this.info.args as readonly string[];
      const out: unknown[] = new Array(names.length);
      for (const [k, v] of Object.entries(overrides)) {
        const i = names.indexOf(k);
        if (i < 0) throw new TypeError(`${this.fop} has no argument '${k}' (it has: ${names.join(', ')})`);
        out[i] = outgoing(this.info.argKinds[i], v);
      }
      return out;
    }
    /** Using an op after it completed: a bug in the handler when it completed the
     * op itself (logged); expected after a timeout (which was logged). */
    afterDone(what: string): Error {
      if (this.completedBy === 'js')
        log.warn(`${this.fop}: ${what} after the op had completed (this handler completed it); ignored ${new Error().stack?.split('\n').slice(3, 5).join(' <- ').trim()}`);
      return opDone();
    }
    wind(overrides?: Record<string, unknown>): Promise<ReplyImpl> {
      if (this.completed) return Promise.reject(this.afterDone('op.wind()'));
      const cookie = nextCookie++;
      native.wind(this.id, this.args(overrides), cookie);
      this.cookies.add(cookie);
      const p = new Promise<ReplyImpl>((resolve, reject) => winds.set(cookie, { op: this, resolve, reject }));
      p.catch(() => {}); // an op answered before its wind returns must not raise an unhandled rejection
      return p;
    }
    fail(errno: number | string, why?: string): Completed {
      if (this.completed) throw this.afterDone('op.fail()');
      native.fail(this.id, errnoOf(errno), why === undefined ? undefined : String(why));
      complete(this, true);
      return COMPLETED;
    }
    forward(overrides?: Record<string, unknown>): Completed {
      if (this.completed) throw this.afterDone('op.forward()');
      native.forward(this.id, this.args(overrides));
      complete(this, false);
      return COMPLETED;
    }
  }

  // ---- Reply: lazy fields; those read or written are sent back, the rest kept ----
  abstract class ReplyImpl {
    abstract readonly info: FopInfo;
    readonly cache: unknown[] = [];
    readonly orig: unknown[] = [];
    constructor(readonly id: number, readonly op: number) {}
    fieldAt(i: number): unknown {
      if (i in this.cache) return this.cache[i];
      const v = incoming(this.info.replyKinds[i], native.replyField(this.id, i));
      this.orig[i] = v;
      return (this.cache[i] = v);
    }
    /** Fields read or set go back (edits in place included); read-only kinds
     * (inode, fd, flock, ...) go back only when replaced, which native refuses. */
    fields(): unknown[] {
      return this.info.replyKinds.map((k, i) =>
        !(i in this.cache) || (READONLY.has(k) && this.cache[i] === this.orig[i]) ? undefined : outgoing(k, this.cache[i]));
    }
  }

  const opClasses: (new (id: number) => OpImpl)[] = [];
  const replyClasses: (new (id: number, op: number) => ReplyImpl)[] = [];
  for (const name of Object.keys(FOPS) as FopName[]) {
    const info = FOPS[name];
    if (!info.js) continue;
    const O = class extends OpImpl { get fop() { return name; } get info() { return info; } };
    info.args.forEach((a, i) =>
      Object.defineProperty(O.prototype, a, { get(this: OpImpl) { return this.argAt(i); }, enumerable: true }));
    const R = class extends ReplyImpl { get info() { return info; } };
    info.reply.forEach((a, i) =>
      Object.defineProperty(R.prototype, a, {
        get(this: ReplyImpl) { return this.fieldAt(i); },
        set(this: ReplyImpl, v: unknown) { this.cache[i] = v; },
        enumerable: true,
      }));
    opClasses[info.code] = O as unknown as new (id: number) => OpImpl;
    replyClasses[info.code] = R as unknown as new (id: number, op: number) => ReplyImpl;
  }

  function complete(op: OpImpl, failed: boolean, by: 'js' | 'native' = 'js'): void {
    op.completed = true;
    op.completedBy = by;
    ops.delete(op.id);
    for (const c of op.cookies) {
      const w = winds.get(c);
      winds.delete(c);
      w?.reject(opDone());
    }
    let s = stats.get(op.fop);
    if (!s) stats.set(op.fop, (s = new FopStats()));
    s.add((performance.now() - op.t0) * 1000, failed);
    native.release(op.id, op.replies);
  }

  /** A made-up reply ({opRet, opErrno, buf, ...}) as fields. */
  function madeFields(op: OpImpl, r: Record<string, unknown>): unknown[] {
    const names = op.info.reply as readonly string[];
    plainObject(r, `a ${op.fop} reply`);
    for (const k of Object.keys(r))
      if (!names.includes(k)) throw new TypeError(`a ${op.fop} reply has no field '${k}' (it has: ${names.join(', ')})`);
    const out = names.map((n, i) => outgoing(op.info.replyKinds[i], r[n]));
    out[1] = errnoField(out[1]);
    if (out[0] === undefined) out[0] = out[1] ? -1 : 0;
    return out;
  }

  function finish(op: OpImpl, result: unknown): void {
    if (op.completed) {
      if (result !== COMPLETED && result !== undefined)
        log.warn(`${op.fop}: the handler returned a reply after the op had completed; discarded`);
      return;
    }
    try {
      let fields: unknown[];
      let reply = -1;
      if (result instanceof ReplyImpl && result.op === op.id) {
        reply = result.id;
        fields = result.fields();
        fields[1] = errnoField(fields[1]);
      } else if (result === COMPLETED) {
        throw new TypeError('the handler returned a completion of another op');
      } else if (result instanceof ReplyImpl) {
        throw new TypeError('the handler returned the reply of another op');
      } else if (result !== null && typeof result === 'object') {
        fields = madeFields(op, result as Record<string, unknown>);
      } else {
        throw new TypeError(`the handler returned ${result === undefined ? 'nothing' : typeof result}, not a reply`);
      }
      const opRet = fields[0] ?? (reply >= 0 ? undefined : 0);
      if (opRet !== undefined && (typeof opRet !== 'number' || !Number.isInteger(opRet)))
        throw new TypeError(`opRet must be an integer, not ${util.inspect(opRet)}`);
      if (typeof opRet === 'number' && opRet < 0 && !fields[1] && reply < 0)
        throw new TypeError('a negative opRet needs an opErrno');
      native.unwind(op.id, reply, fields);
      complete(op, typeof opRet === 'number' && opRet < 0);
    } catch (e) {
      failWith(op, e, 'malformed reply');
    }
  }

  function failWith(op: OpImpl, e: unknown, what: string): void {
    if (op.completed) {
      if ((e as { code?: string })?.code !== 'ERR_GLUJS_OP_DONE')
        log.warn(`${op.fop}: ${what} after the op had completed: ${describe(e)}`);
      return;
    }
    native.fail(op.id, 5 /* EIO */, `${what}: ${describe(e)}`);
    complete(op, true);
  }

  const callbacks: Callbacks = {
    onFop(id, code) {
      const Op = opClasses[code];
      const name = byCode[code]!;
      const op = new Op(id);
      ops.set(id, op);
      // routed here by a handler table of an instance this one replaced (hot reload)
      if (typeof translator[name] !== 'function') return void op.forward();
      let r: unknown;
      try {
        r = translator[name](op);
      } catch (e) {
        return failWith(op, e, 'the handler threw');
      }
      if (r !== null && typeof (r as Promise<unknown>)?.then === 'function')
        (r as Promise<unknown>).then((v) => finish(op, v), (e) => failWith(op, e, 'the handler rejected'));
      else finish(op, r);
    },
    onReply(cookie, replyId) {
      const w = winds.get(cookie);
      if (!w) return native.release(-1, [replyId]);
      winds.delete(cookie);
      w.op.cookies.delete(cookie);
      w.op.replies.push(replyId);
      w.resolve(new replyClasses[FOPS[w.op.fop].code](replyId, w.op.id));
    },
    onEvent(type, gfid, flags, pargfid, oldpargfid) {
      try {
        if (type <= 2) {
          const ev: NotifyEvent = type === 2
            ? { type: 'upcall', gfid, flags, pargfid, oldpargfid }
            : { type: EVENTS[type] as 'child-up' | 'child-down' };
          translator.notify?.(ev);
        } else {
          (translator as any)[EVENTS[type]]?.({ gfid });
        }
      } catch (e) {
        log.error(`${EVENTS[type]} handler threw: ${describe(e)}`);
      }
    },
    onExpired(id) {
      const op = ops.get(id);
      if (op) complete(op, true, 'native');
      else native.release(id, []);
    },
    onHandoff() {
      let state: Buffer | null = null;
      try {
        const st = translator?.handoff?.();
        if (st !== undefined) state = v8.serialize(st);
      } catch (e) {
        log.error(`handoff() threw: ${describe(e)}; the new instance starts without state`);
      }
      native.handoffDone(state);
    },
    onFini() {
      // the native side waits (briefly) for finiDone before stopping the environment
      Promise.resolve()
        .then(() => translator?.fini?.())
        .catch((e) => log.error(`fini() threw: ${describe(e)}`))
        .finally(() => native.finiDone());
    },
  };

  const names = [] as [string[], string[]][];
  for (const n of Object.keys(FOPS) as FopName[]) names[FOPS[n].code] = [[...FOPS[n].args], [...FOPS[n].reply]];
  native.attach(callbacks, names);

  const fast: FastPath = {
    gen: () => native.fastGen(),
    negative: (p, n, g, ttl = 0) => native.fastNegative(p, n, g, ttl),
    complete: (p, n, g, ttl = 0) => native.fastComplete(p, [...n], g, ttl),
    invalidate: (p, n) => (p === undefined ? native.fastInvalidate() : native.fastInvalidate(p, n)),
    learn: (ttl, max = 0) => native.fastLearn(ttl, max),
    stats: () => native.fastStats(),
  };

  (async () => {
    const exported = loadModule(cfg.module);
    const Cls = (exported && (exported.default ?? exported)) as typeof Translator & { options?: Record<string, OptionSpec> };
    if (typeof Cls !== 'function' || !(Cls.prototype instanceof Translator))
      throw new TypeError(`${cfg.module}: the default export must be a class extending Translator from 'glujs'`);
    const options = typedOptions(cfg.options, Cls.options, cfg.module);
    const upcallBricks = cfg.options.find(([k]) => k === 'upcall-bricks')?.[1];
    if (Cls.requires?.upcall && upcallBricks === 'off') {
      log.warn(`${path.basename(cfg.module)} relies on upcall, but the bricks of this volume send no cache invalidations ` +
        '(features.cache-invalidation off): changes made by other clients are seen only when its own entries expire. ' +
        'Turn it on: gluster volume set VOLUME features.cache-invalidation on');
    }
    const ctx: TranslatorContext = { name: cfg.name, options, log, fast };
    setPendingContext(ctx);
    try {
      translator = new Cls() as Translator & Record<string, any>;
    } finally {
      setPendingContext(undefined);
    }
    if (cfg.handoff && typeof translator.adopt === 'function') await translator.adopt(v8.deserialize(cfg.handoff));
    await translator.init?.();
    const codes: number[] = [];
    for (const name of Object.keys(FOPS) as FopName[]) {
      if (typeof translator[name] !== 'function') continue;
      if (!FOPS[name].js) throw new TypeError(`${name} cannot have a JS handler (it carries values glujs passes through only)`);
      codes.push(FOPS[name].code);
    }
    const events = EVENTS.map((e, i) => [e, i] as const)
      .filter(([e, i]) => typeof translator[i <= 2 ? 'notify' : e] === 'function').map(([, i]) => i);
    return { codes, events };
  })().then(
    ({ codes, events }) => {
      native.loaded(null, codes, events);
      log.info(`handlers: ${codes.map((c) => byCode[c]).join(', ') || '(none)'}`);
      const timer = setInterval(() => publish(native, stats, ops.size, translator, log), 1000);
      timer.unref();
      publish(native, stats, ops.size, translator, log);
    },
    (e) => native.loaded(describe(e)),
  );
}

/** opErrno as given: a number (0 allowed) or a name. */
function errnoField(v: unknown): unknown {
  if (v === undefined || v === 0) return v;
  return errnoOf(v as number | string);
}

/** Text for a thrown value, whatever it is: never throws (a getter, a Proxy trap or a
 * borrowed prototype can make inspecting it throw), and stays short. */
function describe(e: unknown): string {
  try {
    if (e instanceof Error) return String(e.stack ?? `${e.name}: ${e.message}`).slice(0, 8192);
    return util.inspect(e, { depth: 3, maxArrayLength: 20, maxStringLength: 200, breakLength: Infinity }).slice(0, 8192);
  } catch {
    try { return `${Object.prototype.toString.call(e)} (cannot be inspected)`; } catch { return '(a value that cannot be described)'; }
  }
}

function makeLogger(native: Native): Logger {
  const at = (l: number) => (msg: string) => native.log(l, String(msg));
  return { error: at(LEVEL.error), warn: at(LEVEL.warning), info: at(LEVEL.info), debug: at(LEVEL.debug), trace: at(LEVEL.trace) };
}

/** Keep JS from touching the daemon's process-wide state (PLATFORM.md). */
function harden(native: Native, log: Logger): void {
  // console and process.stdout/stderr go to the GlusterFS log, never to fds 1/2.
  const sink = (level: number) => new Writable({
    write(chunk, _enc, cb) { native.log(level, String(chunk).replace(/\n$/, '')); cb(); },
  });
  const out = sink(LEVEL.info), err = sink(LEVEL.error);
  Object.defineProperty(process, 'stdout', { value: out, configurable: true });
  Object.defineProperty(process, 'stderr', { value: err, configurable: true });
  const fmt = (level: number) => (...a: unknown[]) => native.log(level, util.format(...a));
  Object.assign(console, {
    log: fmt(LEVEL.info), info: fmt(LEVEL.info), warn: fmt(LEVEL.warning), error: fmt(LEVEL.error),
    debug: fmt(LEVEL.debug), trace: (...a: unknown[]) => native.log(LEVEL.info, util.format(...a) + '\n' + new Error().stack),
  });
  // No process-wide signal handlers, no abort, no setenv. Node installs a
  // signal handler when a listener for a signal name is added (its own
  // 'newListener' hook): remove that hook, so no path (process.on, or
  // EventEmitter.prototype.on.call(process, ...)) reaches it.
  const signals = new Set(Object.keys(require('node:os').constants.signals));
  const hooks = process as unknown as NodeJS.EventEmitter;
  for (const l of hooks.listeners('newListener'))
    if (l.name === 'startListeningIfSignal') hooks.removeListener('newListener', l as (...a: unknown[]) => void);
  hooks.on('newListener', (ev: string | symbol) => {
    if (typeof ev === 'string' && signals.has(ev))
      log.warn(`a '${ev}' listener was added: it will never run; signals belong to the GlusterFS daemon`);
  });
  for (const m of ['on', 'addListener', 'once', 'prependListener', 'prependOnceListener'] as const) {
    const orig = process[m].bind(process) as (...a: any[]) => NodeJS.Process;
    (process as any)[m] = (ev: string | symbol, fn: (...a: any[]) => void) => {
      if (typeof ev === 'string' && signals.has(ev)) {
        log.warn(`process.${m}('${ev}') ignored: signals belong to the GlusterFS daemon`);
        return process;
      }
      return orig(ev, fn);
    };
  }
  process.abort = () => { throw new Error('process.abort() is not allowed inside a GlusterFS daemon'); };
  // process.exit() stops only this environment (native exit handler); say from where
  const exit = process.exit.bind(process);
  process.exit = ((code?: number) => {
    log.error(`process.exit(${code ?? ''}) called ${new Error().stack?.split('\n').slice(2, 5).join(' <- ').trim()}`);
    return exit(code);
  }) as typeof process.exit;
  process.env = { ...process.env };
  process.on('uncaughtException', (e) => log.error(`uncaught exception: ${describe(e)}`));
  process.on('unhandledRejection', (e) => log.error(`unhandled rejection: ${describe(e)}`));
  process.setSourceMapsEnabled?.(true);
}

/** Who may own the files of the module being loaded (StrictModes, lib/trust.ts). */
let moduleOwner = 0;

/** Loads the translator module: .ts/.mts/.cts/.mjs are transpiled (TypeScript's
 * transpileModule, with inline source maps); 'glujs' resolves to this package.
 * Every file loaded must pass {@link checkTrusted}. */
export function loadModule(file: string): any {
  const M = Module as any;
  const pkgRoot = path.resolve(__dirname, '..', '..');
  if (!M.__glujs) {
    M.__glujs = true;
    const resolve = M._resolveFilename;
    M._resolveFilename = function (request: string, parent: unknown, ...rest: unknown[]) {
      if (request === 'glujs' || request.startsWith('glujs/'))
        return resolve.call(this, pkgRoot + request.slice('glujs'.length), parent, ...rest);
      try {
        return resolve.call(this, request, parent, ...rest);
      } catch (e) {
        // TypeScript style: import './x.js' names ./x.ts
        if (request.startsWith('.') && request.endsWith('.js'))
          return resolve.call(this, request.slice(0, -3) + '.ts', parent, ...rest);
        throw e;
      }
    };
    const compile = (m: any, filename: string) => m._compile(transpile(filename), filename);
    for (const ext of ['.ts', '.mts', '.cts', '.mjs']) M._extensions[ext] = compile;
    const js = M._extensions['.js'];
    M._extensions['.js'] = (m: any, filename: string) => {
      try { return js(m, filename); } catch (e) {
        if ((e as { code?: string }).code === 'ERR_REQUIRE_ESM') return compile(m, filename);
        throw e;
      }
    };
    // StrictModes: every file that any require loads, of every kind
    for (const ext of Object.keys(M._extensions)) {
      const load = M._extensions[ext];
      M._extensions[ext] = (m: any, filename: string) => { checkTrusted(filename, moduleOwner); return load(m, filename); };
    }
  }
  const abs = path.resolve(file);
  if (!fs.existsSync(abs)) throw new Error(`${abs}: no such file`);
  moduleOwner = fs.statSync(abs).uid;
  forgetChecks(); // a reload or restart looks again
  checkTrusted(abs, moduleOwner);
  return require(abs);
}

/** Transpiled output is cached on disk (by content), so that starting an
 * environment does not load the TypeScript compiler (~0.5 s, ~40 MB) again. */
function transpile(filename: string): string {
  const source = fs.readFileSync(filename, 'utf8');
  const tsVersion = JSON.parse(fs.readFileSync(require.resolve('typescript/package.json'), 'utf8')).version;
  const key = createHash('sha256').update(`glujs-1 ts-${tsVersion}\0${filename}\0${source}`).digest('hex');
  const warn = (m: string) => console.warn(m); // the daemon's log, under the xlator's name
  const dir = cacheDir(warn);
  const cached = dir ? path.join(dir, `${key}.js`) : '';
  if (cached && trustedEntry(cached, warn)) {
    try { return fs.readFileSync(cached, 'utf8'); } catch { /* gone meanwhile */ }
  }
  const out = compileTs(filename, source);
  if (!dir) return out;
  try {
    const tmp = `${cached}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, out, { mode: 0o600 });
    fs.renameSync(tmp, cached);
  } catch { /* a read-only or full disk only costs the next start time */ }
  return out;
}

function compileTs(filename: string, source: string): string {
  const ts = require('typescript') as typeof import('typescript');
  const out = ts.transpileModule(source, {
    // .mjs/.mts would be emitted as ES modules whatever 'module' says
    fileName: filename.replace(/\.m([jt])s$/, '.$1s'),
    reportDiagnostics: true,
    compilerOptions: {
      module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true,
      inlineSourceMap: true, inlineSources: true, allowJs: true,
    },
  });
  const errors = (out.diagnostics ?? []).filter((d) => d.category === ts.DiagnosticCategory.Error);
  if (errors.length) {
    const msg = errors.map((d) => {
      const pos = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start) : undefined;
      return `${filename}${pos ? `:${pos.line + 1}:${pos.character + 1}` : ''}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
    }).join('\n');
    throw new SyntaxError(msg);
  }
  return out.outputText;
}

/** The volfile's options, checked and typed against the class's `static options`. */
export function typedOptions(pairs: [string, string][], spec: Record<string, OptionSpec> | undefined, module: string): Record<string, OptionValue> {
  const out: Record<string, OptionValue> = {};
  const given = pairs.filter(([k]) => !OWN_OPTIONS.has(k));
  if (!spec) {
    for (const [k, v] of given) out[k] = v;
    return out;
  }
  for (const [k, v] of given) {
    const s = spec[k];
    if (!s) {
      const known = [...Object.keys(spec), ...OWN_OPTIONS].join(', ');
      throw new TypeError(`unknown option '${k}' for ${path.basename(module)} (known: ${known})`);
    }
    out[k] = parseOption(k, v, s);
  }
  for (const [k, s] of Object.entries(spec))
    if (!(k in out) && s.default !== undefined) out[k] = typeof s.default === 'string' ? parseOption(k, s.default, s) : s.default;
  return out;
}

function parseOption(key: string, v: string, s: OptionSpec): OptionValue {
  const bad = () => new TypeError(`option '${key}': '${v}' is not a valid ${s.type}`);
  switch (s.type) {
    case 'string': return v;
    case 'number': { const n = Number(v); if (v.trim() === '' || !Number.isFinite(n)) throw bad(); return n; }
    case 'boolean': {
      const t = v.toLowerCase();
      if (['on', 'yes', 'true', 'enable', '1'].includes(t)) return true;
      if (['off', 'no', 'false', 'disable', '0'].includes(t)) return false;
      throw bad();
    }
    case 'time': { // seconds; accepts 100ms, 30s, 5m, 1h
      const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/i.exec(v);
      if (!m) throw bad();
      const unit = { ms: 0.001, s: 1, m: 60, h: 3600 }[(m[2] ?? 's').toLowerCase() as 'ms'];
      return Number(m[1]) * unit;
    }
    case 'size': { // bytes; accepts 512, 64KB, 16MB, 1GB
      const m = /^\s*(\d+)\s*([KMGT]?)B?\s*$/i.exec(v);
      if (!m) throw bad();
      return Number(m[1]) * 1024 ** ' KMGT'.indexOf((m[2] || ' ').toUpperCase());
    }
  }
}

function publish(native: Native, stats: Map<string, FopStats>, inflight: number, t: Translator, log: Logger): void {
  let extra: Record<string, unknown> = {};
  try {
    extra = t.dump?.() ?? {};
  } catch (e) {
    extra = { dump_error: String((e as Error)?.message ?? e) };
  }
  try {
    native.publish(snapshot(stats, inflight, extra));
  } catch (e) {
    log.warn(`statedump snapshot failed: ${describe(e)}`);
  }
}
