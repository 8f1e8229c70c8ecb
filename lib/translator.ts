// The API a translator author sees: Translator, Op, Reply, and the fast path.
import { FOPS, type FopArgs, type FopReplies, type FopHandlers, type FopName } from './gen/fops';
import { FAST_COUNTERS, type FastStats } from './gen/shared';
import type { Gfid, DictLike, DirEntry, Loc, Fd, Inode, Flock } from './types';
import type { ErrnoName } from './errno';

export type { FopName, FopArgs, FopReplies };

/** The brand of {@link Completed}: a symbol no other module can name, so no other value has its type. */
const completedBrand: unique symbol = Symbol('glujs.completed');

/**
 * What `op.fail()` and `op.forward()` return: the op is complete; return it
 * from the handler (`return op.fail('EACCES')`).
 *
 * Why it exists: a handler's return value is what the runtime unwinds. An op
 * that fail or forward already answered has nothing left to unwind, and the
 * handler must still return something that says so. Returning this token lets
 * the type system accept `return op.forward()` as a complete answer (it is one
 * of the {@link HandlerResult}s) and tells the runtime not to unwind the op a
 * second time. It is branded with a private `unique symbol`, so a reply or any
 * other object can never pass for it, in the types or at run time (the runtime
 * compares it with {@link COMPLETED} by identity).
 */
export interface Completed {
  readonly [completedBrand]: true;
}
/** The one Completed value: `op.fail()` and `op.forward()` return it. */
export const COMPLETED: Completed = Object.freeze({ [completedBrand]: true as const });

/** Overrides for `op.wind()`: any argument, by name (dicts as Dict, Map or object). */
export type WindOverrides<F extends FopName> = {
  [K in keyof FopArgs[F]]?: FopArgs[F][K] extends import('./types').Dict ? DictLike : FopArgs[F][K];
};

/**
 * The options of `op.wind()` and `op.forward()`.
 * - `child`: the index in {@link Translator.children} to wind to (default 0, the first).
 * - `replace`: dict overrides (`xdata`, `dict`) replace the op's own dict
 *   instead of being merged into it. By default `op.wind({ xdata: { k: v } })`
 *   adds or changes `k` and keeps every other key the op came with (such as
 *   `gfid-req`, which a create needs); to drop one key, `op.xdata.delete(k)`
 *   before winding: in-place edits of the op's dicts are wound too.
 */
export interface WindOptions { child?: number; replace?: boolean }

/**
 * A loc for a fop the translator originates:
 * - a `Loc` read from an op or a reply (`op.loc`), as it is;
 * - `{ path: '/dir/name' }`: looked up from the root through that child, one
 *   component at a time, before the fop is wound (a fop that makes the entry,
 *   such as `create` or `mkdir`, needs only its parent to exist);
 * - `{ gfid }`: an inode known here (looked up before), nameless;
 * - `{ pargfid, name }`: the entry `name` in a directory known here.
 */
export type LocSpec = Loc | { path: string } | { gfid: Gfid } | { pargfid: Gfid; name: string; gfid?: Gfid };
/** A lock for `lk`, `inodelk` and `finodelk` that the translator makes: F_RDLCK 0, F_WRLCK 1, F_UNLCK 2. */
export interface FlockSpec { type: number; whence: number; start?: number; len?: number; pid: number; owner?: Buffer }

/** The arguments of an originated fop: those of docs/fops.md, by name, every one optional but its loc or fd. */
export type OriginateArgs<F extends FopName> = {
  [K in keyof FopArgs[F]]?: FopArgs[F][K] extends Loc ? LocSpec
    : FopArgs[F][K] extends Fd ? Fd
    : FopArgs[F][K] extends Inode ? Inode | { gfid: Gfid }
    : FopArgs[F][K] extends Flock ? Flock | FlockSpec
    : FopArgs[F][K] extends import('./types').Dict ? DictLike
    : FopArgs[F][K];
};

/** Credentials for an originated fop, over those of its call stack (each optional). */
export interface OriginCaller {
  uid?: number; gid?: number; groups?: number[]; pid?: number;
  /** the lock owner (frame->root->lk_owner): locks with the same owner and client are the same lock holder */
  lkOwner?: Buffer;
}
/** The options of an originated fop. */
export interface OriginateOptions { caller?: OriginCaller }

/**
 * One child of the xlator (`this.children[i]`, volfile order): a method per
 * fop a JS handler can take. `await this.child.fstat({ fd: op.fd })`
 * originates that fop on that child and resolves to its reply, of the shape
 * `op.wind()` resolves to (opRet -1 and opErrno when the child fails it;
 * ETIMEDOUT when it does not answer within handler-timeout). It rejects only
 * when the fop cannot be made: bad arguments, or a `{ path }` that does not
 * resolve (the error carries `errno` and `code`).
 *
 * Inside a handler, the fop runs on that handler's call stack: the same uid,
 * gid, pid, groups, lock owner and (on a brick) client as the op. Anywhere
 * else (a timer, `notify`, `init()`), it runs on a new call stack with the
 * daemon's own credentials. `{ caller }` overrides either.
 *
 * An fd that an originated `open`, `create` or `opendir` opens stays open as
 * long as its reply, or any value read from it, is referenced from JS; an
 * originated lookup links what it finds, so its gfid can be used in later locs.
 */
export type Child = {
  /** the child's volume name in the volfile */
  readonly name: string;
  /** its index in this.children */
  readonly index: number;
} & {
  readonly [F in OriginFopName]: (args?: OriginateArgs<F>, opts?: OriginateOptions) => Promise<Reply<F>>;
};
/**
 * Fops a translator cannot originate, and why. icreate and namelink are
 * GlusterFS's unfinished gfid-based entry fops: no client sends them, and a
 * brick's protocol/server 10.3 crashes (SIGSEGV) on a namelink for a name it
 * has not linked (found by the bridge fuzz).
 */
export const NOT_ORIGINATED = Object.freeze({
  icreate: 'no GlusterFS client sends icreate, and servers do not take it safely',
  namelink: 'no GlusterFS client sends namelink, and a brick crashes on one (GlusterFS 10.3)',
} as const);
/** The fops a translator can originate: those a JS handler can take but {@link NOT_ORIGINATED}. */
export type OriginFopName = Exclude<JsFopName, keyof typeof NOT_ORIGINATED>;

/** A reply: from `op.wind()` (edit it in place, then return it), or made up by the handler. */
export type Reply<F extends FopName> = FopReplies[F];

/** A reply a handler makes up: `{ opRet: -1, opErrno: 'ENOENT' }`; fields left out are filled in. */
export type MadeReply<F extends FopName> = {
  [K in keyof FopReplies[F]]?: K extends 'opErrno' ? number | ErrnoName : FopReplies[F][K] extends import('./types').Dict ? DictLike : FopReplies[F][K];
};

/** What a handler returns (or resolves to). */
export type HandlerResult<F extends FopName> = Reply<F> | MadeReply<F> | Completed;

/** Who asked for a fop: the credentials on its call stack (frame->root). */
export interface Caller {
  uid: number;
  gid: number;
  /** the process id on the client (FUSE: the application's pid; negative for GlusterFS's own internal fops) */
  pid: number;
  groups: number[];
  /** on a brick: the id of the client connection */
  client?: string;
}

/** One fop in flight. Its arguments are read-only fields (`op.loc`, `op.fd`, `op.xdata`, ...). */
export interface OpBase<F extends FopName> {
  /** Who asked: uid, gid, pid and groups from the call stack. */
  readonly caller: Caller;
  /** The fop's name ('lookup', 'writev', ...). */
  readonly fop: F;
  /** True once the op has completed (answered, failed, forwarded, or timed out). */
  readonly done: boolean;
  /**
   * Winds the op to a child (the first, or `{ child: i }`), with any arguments
   * replaced (dicts merged: see {@link WindOptions}); resolves to the child's
   * reply. An op may be wound several times, to several children or again
   * after a reply; it is still answered once, by what the handler returns.
   */
  wind(overrides?: WindOverrides<F>, opts?: WindOptions): Promise<Reply<F>>;
  /** Completes the op with op_ret -1 and this errno (a number or a name like 'EACCES'). */
  fail(errno: number | ErrnoName, why?: string): Completed;
  /** Winds the op on (to the first child, or `{ child: i }`) and lets the child's reply go straight up without returning to JS (cheapest). */
  forward(overrides?: WindOverrides<F>, opts?: WindOptions): Completed;
}
export type Op<F extends FopName> = OpBase<F> & Readonly<FopArgs[F]>;

/** The fops a JS handler can take: every fop but the three glujs only passes through. */
export type JsFopName = keyof FopHandlers;
/** Every fop a JS handler can take, in the order of the fop table. */
export const JS_FOPS: readonly JsFopName[] = Object.freeze(
  (Object.keys(FOPS) as FopName[]).filter((f): f is JsFopName => FOPS[f].js));

/**
 * An op of any of the fops F: the union of their `Op`s, told apart by `op.fop`.
 * `if (op.fop === 'writev')` narrows it to `Op<'writev'>`, and `'loc' in op`
 * to the ops that carry a loc. `op.wind()` on the whole union resolves to a
 * reply typed by the fields those fops' replies share (`opRet`, `opErrno`,
 * ...); wind a narrowed op to have its reply typed as that fop's.
 */
export type AnyOp<F extends FopName = JsFopName> = F extends FopName ? Op<F> : never;
/** What a handler of any of the fops F returns: a result of one of them. */
export type AnyHandlerResult<F extends FopName = JsFopName> = F extends FopName ? HandlerResult<F> : never;
/** One handler for many fops (see {@link Translator.handleAll}); `this` is the translator. */
export type AnyHandler<T, F extends JsFopName = JsFopName> =
  (this: T, op: AnyOp<F>) => AnyHandlerResult<F> | Promise<AnyHandlerResult<F>>;

/** Events without a reply (`notify`): child up/down and upcall cache invalidation from the brick. */
export type NotifyEvent =
  | { type: 'child-up' }
  | { type: 'child-down' }
  | {
      type: 'upcall';
      /** the inode that changed */
      gfid: Gfid;
      /** UP_* cache-invalidation flags (see upcall-utils.h) */
      flags: number;
      /** its parent, and for a rename the old parent (null gfid when not sent) */
      pargfid: Gfid;
      oldpargfid: Gfid;
    };

/** A typed option declared by a translator class (`static options`). */
export interface OptionSpec {
  type: 'string' | 'number' | 'boolean' | 'time' | 'size';
  default?: string | number | boolean;
  description?: string;
}
export type OptionValue = string | number | boolean;

export interface Logger {
  error(msg: string): void;
  warn(msg: string): void;
  info(msg: string): void;
  debug(msg: string): void;
  trace(msg: string): void;
}

/**
 * The native answer cache: lookups it can answer are served on the GlusterFS
 * thread without reaching JS. JS owns the policy: it adds answers it learnt and
 * invalidates them. Race-free by generations: take `gen()` before winding the
 * lookup whose reply you learn from, and pass it back; an invalidation of the
 * same parent in between makes the native side refuse the stale answer.
 * The one invalidation the native side makes by itself: an upcall from the
 * brick drops the answers for the directories it names as it arrives, before
 * `notify` sees it. The table answers lookups with or without a `lookup` method.
 */
export interface FastPath {
  /** The current generation (take it before winding). */
  gen(): bigint;
  /** lookup(pargfid, name) answers ENOENT natively until ttlMs passes (0: until invalidated). */
  negative(pargfid: Gfid, name: string, gen: bigint, ttlMs?: number): void;
  /** The directory holds exactly `names`: any other name answers ENOENT natively. */
  complete(pargfid: Gfid, names: Iterable<string>, gen: bigint, ttlMs?: number): void;
  /** A name under pargfid may exist now (omit name: the whole directory; omit both: everything). */
  invalidate(pargfid?: Gfid, name?: string): void;
  /**
   * A learn rule: lookups the table cannot answer are wound natively (they do
   * not reach JS), and an ENOENT reply is added as a negative entry for ttlMs,
   * race-free as above. maxNames caps the table (it is dropped whole beyond).
   * ttlMs 0 turns the rule off. Invalidation stays JS's, as above.
   */
  learn(ttlMs: number, maxNames?: number): void;
  /**
   * Counters of the native table, and of the kernel tier (`kernel_*`). The
   * kernel tier needs nothing from JS: on a FUSE mount with negative-timeout
   * (or entry-timeout above 1 s) the kernel answers repeat lookups itself,
   * and glujs records every name the kernel may hold because a reply passed
   * up through this xlator, and makes the kernel forget it on upcall,
   * `invalidate()`, child down/up, reload, graph switch, and past the learn
   * rule's `maxNames` and `ttlMs`. `invalidate()` is how JS asks for it.
   */
  stats(): FastStats;
}

/**
 * What a translator relies on, declared as `static requires = { upcall: true }`.
 * - `upcall`: it needs the bricks' cache invalidations (features/upcall with
 *   `features.cache-invalidation on`) to hear of other clients' changes, as a
 *   cache does. `glujs filter install` then warns when the volume has them off
 *   (or turns them on with `--enable-upcall`), and the instance logs a warning
 *   at start when the volfile says its bricks send none.
 */
export interface TranslatorRequirements { upcall?: boolean; }

/** Per-instance context the runtime hands to the constructor. */
export interface TranslatorContext {
  name: string;
  options: Record<string, OptionValue>;
  log: Logger;
  fast: FastPath;
  children: readonly Child[];
}

/**
 * The context of the translator being constructed, set by the runtime around
 * its `new Cls()` (lib/daemon/runtime.ts). A module-level variable carries it because
 * the constructor belongs to the author's subclass, not to glujs: a class may
 * declare no constructor or one of its own, and as an argument the context
 * would reach Translator only if every such constructor took it and passed it
 * on to `super()`. Read here instead, `this.name`, `this.options`, `this.log`
 * and `this.fast` are set before the subclass's field initialisers run, which
 * is what lets them use `this.options`. Construction is synchronous on the
 * environment's one JS thread, so no other construction can see the value, and
 * the runtime clears it again in a `finally`.
 */
let pendingContext: TranslatorContext | undefined;
/** @internal the runtime sets this just before constructing the translator, and clears it after. */
export function setPendingContext(c: TranslatorContext | undefined): void {
  pendingContext = c;
}

/**
 * Base class of every glujs translator. Define a method per fop you handle
 * (`async lookup(op: Op<'lookup'>)`), or one handler for many fops with
 * {@link Translator.handleAll}; fops without a method never reach JS.
 * Optional hooks: `init()` (async set-up, a throw fails the graph),
 * `notify(event)`, `forget/release/releasedir/invalidate({gfid})`, `dump()`
 * (fields for the statedump), `handoff()`/`adopt(state)` (state across a hot
 * reload) and `fini()`.
 */
export class Translator {
  /** What this translator relies on (see {@link TranslatorRequirements}). */
  static requires?: TranslatorRequirements;

  /**
   * Handles each of `fops` with one handler: installs it as the class's method
   * for each of them, as if written out one by one, so those fops reach JS and
   * no others (the runtime and `glujs check` see the methods). The handler's
   * `op` is an {@link AnyOp}: `op.fop` says which fop it is, and narrows it.
   * Call it in a static block of the class (or right after it):
   *
   * ```ts
   * export default class Count extends Translator {
   *   n = 0;
   *   static {
   *     this.handleAll(['create', 'mkdir', 'unlink'], function (op) {
   *       this.n++;                       // `this` is the Count instance
   *       return op.forward();
   *     });
   *   }
   * }
   * ```
   *
   * A fop the class (not a parent class) already has a method for, listed
   * again, or one a JS handler cannot take, is an error: it throws, and the
   * module does not load.
   */
  static handleAll<T extends Translator, F extends JsFopName>(
    this: abstract new () => T, fops: readonly F[], handler: AnyHandler<T, F>): void {
    const proto: T = this.prototype;
    for (const fop of fops) {
      if (!Object.prototype.hasOwnProperty.call(FOPS, fop) || !FOPS[fop].js)
        throw new TypeError(`${this.name}.handleAll: ${String(fop)} is not a fop a JS handler can take`);
      if (Object.prototype.hasOwnProperty.call(proto, fop))
        throw new TypeError(`${this.name}.handleAll: ${this.name} already has a ${fop} method`);
      Object.defineProperty(proto, fop, { value: handler, writable: true, configurable: true });
    }
  }
  /** The xlator's name in the volfile. */
  readonly name: string;
  /** The volfile's options (typed by `static options`, when the class declares it). */
  readonly options: Record<string, OptionValue>;
  /** Logs into the GlusterFS log under this xlator's name. */
  readonly log: Logger;
  /** The native answer cache (see FastPath). */
  readonly fast: FastPath;
  /** The xlator's children, in volfile order (see {@link Child}). */
  readonly children: readonly Child[];
  /** `this.children[0]`: the first child. */
  get child(): Child {
    const c = this.children[0];
    if (!c) throw new RangeError(`${this.name} has no children (outside the daemon, a Translator has none)`);
    return c;
  }

  constructor() {
    const c = pendingContext;
    if (!c) {
      // Constructed outside the daemon (unit tests, `glujs check`): inert but usable.
      const nop = () => {};
      this.name = new.target.name;
      this.options = {};
      this.log = { error: nop, warn: nop, info: nop, debug: nop, trace: nop };
      this.fast = {
        gen: () => 0n, negative: nop, complete: nop, invalidate: nop, learn: nop,
        stats: () => Object.fromEntries(FAST_COUNTERS.map((n) => [n, 0])) as FastStats,
      };
      this.children = [];
      return;
    }
    this.name = c.name;
    this.options = c.options;
    this.log = c.log;
    this.fast = c.fast;
    this.children = c.children;
  }

  /** Called once after construction; may be async. A throw fails the graph's init. */
  init?(): void | Promise<void>;
  /** Called when the environment is stopped (graph switch, unmount, reload). */
  fini?(): void | Promise<void>;
  /** Child up/down and upcall cache invalidation. */
  notify?(event: NotifyEvent): void;
  forget?(inode: { gfid: Gfid }): void;
  release?(fd: { gfid: Gfid }): void;
  releasedir?(fd: { gfid: Gfid }): void;
  invalidate?(inode: { gfid: Gfid }): void;
  /** Extra statedump fields ("key": value). */
  dump?(): Record<string, string | number | bigint | boolean>;
  /**
   * Hot reload: the state this instance hands to the one that replaces it
   * (anything the structured clone algorithm copies: Maps, Sets, Buffers, ...).
   * Called on the old instance before the new one is constructed.
   */
  handoff?(): unknown;
  /** Hot reload: receives what the previous instance's handoff() returned, before init(). */
  adopt?(state: unknown): void | Promise<void>;
}

// Every fop handler is an optional method of Translator, typed from the fop table.
// eslint-disable-next-line @typescript-eslint/no-empty-interface
export interface Translator extends FopHandlers {}

/** Re-exported for handlers that build entries. */
export type { DirEntry };
