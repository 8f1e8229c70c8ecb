// Op dispatch: a fop from the native side becomes an Op (its arguments lazy
// getters by field index), goes to the translator's handler, and whatever the
// handler does (wind, fail, forward, return a reply, throw, reject) goes back
// exactly once. Winds come back as Replies (lazy fields; those read or written
// are sent back, the rest kept as they were). Fops the translator originates
// on its children (this.children[i].<fop>()) are in origin.ts.
import { AsyncLocalStorage } from 'node:async_hooks';
import util from 'node:util';
import v8 from 'node:v8';
import { FOPS, type FopName } from '../gen/fops';
import { EVENTS } from '../gen/shared';
import { Dict, toDict, type DictLike } from '../types';
import { errnoOf } from '../errno';
import { COMPLETED, type Caller, type Completed, type Logger, type NotifyEvent, type Translator, type WindOptions } from '../translator';
import { FopStats } from './stats';
import { describe } from './log';
import type { Callbacks, Native } from './native';

/** Kinds JS reads but cannot make (see FromJs in native/node/convert.cc). */
const READONLY = new Set<string>(['loc', 'fd', 'inode', 'flock', 'lease', 'locklist', 'opaque']);
/** Kinds an originated fop takes as they came, from the op or reply they were read from. */
export const REFS = new Set<string>(['loc', 'fd', 'inode']);

/** Where JS got a loc, fd or inode: [0 op | 1 reply, handle, field index], and
 * the reply that holds it (a reply to an originated fop lives while any value
 * read from it does). */
export interface Source { at: [number, number, number]; holder?: object }
/** Values read from ops and replies, by object. */
export const sources = new WeakMap<object, Source>();

/** The op whose handler is running (across its awaits): originated fops run on its call stack. */
export const currentOp = new AsyncLocalStorage<OpImpl>();

type FopInfo = (typeof FOPS)[FopName];
/** Fop name by GF_FOP code. */
export const byCode: (FopName | undefined)[] = [];
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

/** opErrno as given: a number (0 allowed) or a name. */
function errnoField(v: unknown): unknown {
  if (v === undefined || v === 0) return v;
  return errnoOf(v as number | string);
}

/** One fop in flight, as its handler sees it (Op<F> in translator.ts). */
export abstract class OpImpl {
  abstract readonly fop: FopName;
  abstract readonly info: FopInfo;
  completed = false;
  /** 'js': this handler answered; 'native': the timeout or a restart did */
  completedBy: 'js' | 'native' | undefined;
  readonly replies: number[] = [];
  readonly cookies = new Set<number>();
  readonly cache: unknown[] = [];
  readonly t0 = performance.now();
  readonly #d: Dispatcher;
  #caller?: Caller;
  constructor(readonly id: number, d: Dispatcher) { this.#d = d; }
  get done(): boolean { return this.completed; }
  get caller(): Caller {
    if (this.#caller) return this.#caller;
    if (this.completed) throw opDone();
    return (this.#caller = this.#d.native.caller(this.id));
  }
  /** Dicts read from the op: their version then, to see in-place edits. */
  readonly versions: number[] = [];
  argAt(i: number): unknown {
    if (i in this.cache) return this.cache[i];
    if (this.completed) throw opDone();
    const kind = this.info.argKinds[i];
    const v = incoming(kind, this.#d.native.arg(this.id, i));
    if (v instanceof Dict) this.versions[i] = v.version;
    else if (REFS.has(kind) && v !== null && typeof v === 'object') sources.set(v, { at: [0, this.id, i] });
    return (this.cache[i] = v);
  }
  /** The argument list for a wind or forward: overrides by name, dicts merged
   * into the op's own (replaced with `replace`), and dicts of the op edited in
   * place. undefined: the op's own arguments, as they came. */
  args(overrides: Record<string, unknown> | undefined, replace = false): unknown[] | undefined {
    const names = this.info.args as readonly string[];
    const kinds = this.info.argKinds as readonly string[];
    let out: unknown[] | undefined;
    this.versions.forEach((v, i) => {
      const d = this.cache[i];
      if (d instanceof Dict && d.version !== v) (out ??= new Array(names.length))[i] = d.toFlat();
    });
    if (overrides === undefined) return out;
    if (typeof overrides !== 'object' || overrides === null)
      throw new TypeError(`${this.fop}: wind() takes an object of arguments to replace`);
    plainObject(overrides, `${this.fop}: the arguments to replace`);
    out ??= new Array(names.length);
    for (const [k, v] of Object.entries(overrides)) {
      const i = names.indexOf(k);
      if (i < 0) throw new TypeError(`${this.fop} has no argument '${k}' (it has: ${names.join(', ')})`);
      if (kinds[i] === 'dict' && !replace && v !== undefined && v !== null) {
        const own = this.argAt(i);
        out[i] = (own instanceof Dict ? new Dict(own).merge(toDict(v as DictLike)) : toDict(v as DictLike)).toFlat();
      } else {
        out[i] = outgoing(kinds[i], v);
      }
    }
    return out;
  }
  /** Using an op after it completed: a bug in the handler when it completed the
   * op itself (logged); expected after a timeout (which was logged). */
  afterDone(what: string): Error {
    if (this.completedBy === 'js')
      this.#d.log.warn(`${this.fop}: ${what} after the op had completed (this handler completed it); ignored ${new Error().stack?.split('\n').slice(3, 5).join(' <- ').trim()}`);
    return opDone();
  }
  wind(overrides?: Record<string, unknown>, opts?: WindOptions): Promise<ReplyImpl> {
    if (this.completed) return Promise.reject(this.afterDone('op.wind()'));
    const d = this.#d;
    const { child, replace } = windOptions(this.fop, opts);
    const cookie = d.nextCookie++;
    d.native.wind(this.id, this.args(overrides, replace), cookie, child);
    this.cookies.add(cookie);
    const p = new Promise<ReplyImpl>((resolve, reject) => d.winds.set(cookie, { op: this, resolve, reject }));
    p.catch(() => {}); // an op answered before its wind returns must not raise an unhandled rejection
    return p;
  }
  fail(errno: number | string, why?: string): Completed {
    if (this.completed) throw this.afterDone('op.fail()');
    this.#d.native.fail(this.id, errnoOf(errno), why === undefined ? undefined : String(why));
    this.#d.complete(this, true);
    return COMPLETED;
  }
  forward(overrides?: Record<string, unknown>, opts?: WindOptions): Completed {
    if (this.completed) throw this.afterDone('op.forward()');
    const { child, replace } = windOptions(this.fop, opts);
    this.#d.native.forward(this.id, this.args(overrides, replace), child);
    this.#d.complete(this, false);
    return COMPLETED;
  }
}

/** `{ child, replace }` of wind() and forward(), checked. */
function windOptions(fop: string, opts: WindOptions | undefined): { child: number; replace: boolean } {
  if (opts === undefined) return { child: 0, replace: false };
  if (typeof opts !== 'object' || opts === null) throw new TypeError(`${fop}: the options of wind() are { child, replace }`);
  plainObject(opts, `${fop}: the options of wind()`);
  for (const k of Object.keys(opts))
    if (k !== 'child' && k !== 'replace') throw new TypeError(`${fop}: wind() has no option '${k}' (it has: child, replace)`);
  const child = opts.child ?? 0;
  if (!Number.isInteger(child) || child < 0) throw new RangeError(`${fop}: child must be an index into this.children, not ${util.inspect(child)}`);
  return { child, replace: opts.replace === true };
}

/** A child's reply to a wind (Reply<F>): lazy fields, edits in place kept. */
export abstract class ReplyImpl {
  abstract readonly info: FopInfo;
  readonly cache: unknown[] = [];
  readonly orig: unknown[] = [];
  readonly #native: Native;
  /** op: the op it answers a wind of, or -1: a fop the translator originated */
  constructor(readonly id: number, readonly op: number, native: Native) { this.#native = native; }
  fieldAt(i: number): unknown {
    if (i in this.cache) return this.cache[i];
    const kind = this.info.replyKinds[i];
    const v = incoming(kind, this.#native.replyField(this.id, i));
    if (REFS.has(kind) && v !== null && typeof v === 'object')
      sources.set(v, { at: [1, this.id, i], holder: this.op < 0 ? this : undefined });
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

// One Op and one Reply class per fop, from the fop table: a getter per field.
const opClasses: (new (id: number, d: Dispatcher) => OpImpl)[] = [];
export const replyClasses: (new (id: number, op: number, native: Native) => ReplyImpl)[] = [];
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
  opClasses[info.code] = O as unknown as new (id: number, d: Dispatcher) => OpImpl;
  replyClasses[info.code] = R as unknown as new (id: number, op: number, native: Native) => ReplyImpl;
}

interface Wind { op: OpImpl; resolve: (r: ReplyImpl) => void; reject: (e: Error) => void }
/** A fop the translator originated, waiting for its reply. */
export interface Origin { code: number; resolve: (r: ReplyImpl) => void }

/** The ops of one environment, and the callbacks the native side calls for them. */
export class Dispatcher {
  translator!: Translator & Record<string, any>;
  readonly ops = new Map<number, OpImpl>();
  readonly winds = new Map<number, Wind>();
  readonly origins = new Map<number, Origin>();
  /** Releases the replies to originated fops once nothing refers to them. */
  readonly replyGc = new FinalizationRegistry<number>((id) => this.native.release(-1, [id]));
  readonly stats = new Map<string, FopStats>();
  nextCookie = 1;
  readonly callbacks: Callbacks;

  constructor(readonly native: Native, readonly log: Logger) {
    this.callbacks = {
      onFop: (id, code) => this.onFop(id, code),
      onReply: (cookie, reply) => this.onReply(cookie, reply),
      onEvent: (type, gfid, flags, pargfid, oldpargfid) => this.onEvent(type, gfid, flags, pargfid, oldpargfid),
      onExpired: (id) => {
        const op = this.ops.get(id);
        if (op) this.complete(op, true, 'native');
        else this.native.release(id, []);
      },
      onHandoff: () => this.native.handoffDone(this.handoff()),
      onFini: () => {
        // the native side waits (briefly) for finiDone before stopping the environment
        Promise.resolve()
          .then(() => this.translator?.fini?.())
          .catch((e) => this.log.error(`fini() threw: ${describe(e)}`))
          .finally(() => this.native.finiDone());
      },
    };
  }

  private onFop(id: number, code: number): void {
    const op = new opClasses[code](id, this);
    const name = byCode[code]!;
    this.ops.set(id, op);
    // routed here by a handler table of an instance this one replaced (hot reload)
    if (typeof this.translator[name] !== 'function') return void op.forward();
    let r: unknown;
    try {
      r = currentOp.run(op, () => this.translator[name](op));
    } catch (e) {
      return this.failWith(op, e, 'the handler threw');
    }
    if (r !== null && typeof (r as Promise<unknown>)?.then === 'function')
      (r as Promise<unknown>).then((v) => this.finish(op, v), (e) => this.failWith(op, e, 'the handler rejected'));
    else this.finish(op, r);
  }

  private onReply(cookie: number, replyId: number): void {
    const o = this.origins.get(cookie);
    if (o) {
      this.origins.delete(cookie);
      const r = new replyClasses[o.code](replyId, -1, this.native);
      this.replyGc.register(r, replyId, r);
      return o.resolve(r);
    }
    const w = this.winds.get(cookie);
    if (!w) return this.native.release(-1, [replyId]);
    this.winds.delete(cookie);
    w.op.cookies.delete(cookie);
    w.op.replies.push(replyId);
    w.resolve(new replyClasses[FOPS[w.op.fop].code](replyId, w.op.id, this.native));
  }

  /** Releases the reply to an originated fop now (what was read from it stays readable). */
  dropReply(r: ReplyImpl): void {
    if (this.replyGc.unregister(r)) this.native.release(-1, [r.id]);
  }

  private onEvent(type: number, gfid: string, flags: number, pargfid: string, oldpargfid: string): void {
    try {
      if (type <= 2) {
        const ev: NotifyEvent = type === 2
          ? { type: 'upcall', gfid, flags, pargfid, oldpargfid }
          : { type: EVENTS[type] as 'child-up' | 'child-down' };
        this.translator.notify?.(ev);
      } else {
        this.translator[EVENTS[type]]?.({ gfid });
      }
    } catch (e) {
      this.log.error(`${EVENTS[type]} handler threw: ${describe(e)}`);
    }
  }

  /** The translator's handoff() state for its successor (hot reload), serialized. */
  private handoff(): Buffer | null {
    try {
      const st = this.translator?.handoff?.();
      if (st !== undefined) return v8.serialize(st);
    } catch (e) {
      this.log.error(`handoff() threw: ${describe(e)}; the new instance starts without state`);
    }
    return null;
  }

  complete(op: OpImpl, failed: boolean, by: 'js' | 'native' = 'js'): void {
    op.completed = true;
    op.completedBy = by;
    this.ops.delete(op.id);
    for (const c of op.cookies) {
      const w = this.winds.get(c);
      this.winds.delete(c);
      w?.reject(opDone());
    }
    let s = this.stats.get(op.fop);
    if (!s) this.stats.set(op.fop, (s = new FopStats()));
    s.add((performance.now() - op.t0) * 1000, failed);
    this.native.release(op.id, op.replies);
  }

  /** A made-up reply ({opRet, opErrno, buf, ...}) as fields. */
  private madeFields(op: OpImpl, r: Record<string, unknown>): unknown[] {
    const names = op.info.reply as readonly string[];
    plainObject(r, `a ${op.fop} reply`);
    for (const k of Object.keys(r))
      if (!names.includes(k)) throw new TypeError(`a ${op.fop} reply has no field '${k}' (it has: ${names.join(', ')})`);
    const out = names.map((n, i) => outgoing(op.info.replyKinds[i], r[n]));
    out[1] = errnoField(out[1]);
    if (out[0] === undefined) out[0] = out[1] ? -1 : 0;
    return out;
  }

  /** The handler's result: the op's own reply (edited or not), a made-up one, or COMPLETED. */
  private finish(op: OpImpl, result: unknown): void {
    if (op.completed) {
      if (result !== COMPLETED && result !== undefined)
        this.log.warn(`${op.fop}: the handler returned a reply after the op had completed; discarded`);
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
        throw new TypeError(result.op < 0
          ? "the handler returned the reply of a fop it originated (return op.wind()'s reply, or make one up)"
          : 'the handler returned the reply of another op');
      } else if (result !== null && typeof result === 'object') {
        fields = this.madeFields(op, result as Record<string, unknown>);
      } else {
        throw new TypeError(`the handler returned ${result === undefined ? 'nothing' : typeof result}, not a reply`);
      }
      const opRet = fields[0] ?? (reply >= 0 ? undefined : 0);
      if (opRet !== undefined && (typeof opRet !== 'number' || !Number.isInteger(opRet)))
        throw new TypeError(`opRet must be an integer, not ${util.inspect(opRet)}`);
      if (typeof opRet === 'number' && opRet < 0 && !fields[1] && reply < 0)
        throw new TypeError('a negative opRet needs an opErrno');
      this.native.unwind(op.id, reply, fields);
      this.complete(op, typeof opRet === 'number' && opRet < 0);
    } catch (e) {
      this.failWith(op, e, 'malformed reply');
    }
  }

  private failWith(op: OpImpl, e: unknown, what: string): void {
    if (op.completed) {
      if ((e as { code?: string })?.code !== 'ERR_GLUJS_OP_DONE')
        this.log.warn(`${op.fop}: ${what} after the op had completed: ${describe(e)}`);
      return;
    }
    this.native.fail(op.id, 5 /* EIO */, `${what}: ${describe(e)}`);
    this.complete(op, true);
  }
}
