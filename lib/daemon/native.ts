// The native side as the runtime sees it: process._linkedBinding('glujs')
// (native/node/binding.cc), and the callbacks it calls (native/node/queue.cc).
import type { FastStats } from '../gen/shared';
import type { Caller } from '../translator';

/** process._linkedBinding('glujs'). Ops and replies are numeric handles. */
export interface Native {
  config(): { name: string; module: string; restarts: number; options: [string, string][]; handoff?: Buffer };
  attach(callbacks: Callbacks, names: [string[], string[]][]): void;
  loaded(error: string | null, codes?: number[], events?: number[]): void;
  arg(op: number, i: number): unknown;
  caller(op: number): Caller;
  replyField(reply: number, i: number): unknown;
  wind(op: number, args: unknown[] | undefined, cookie: number, child: number): void;
  forward(op: number, args: unknown[] | undefined, child: number): void;
  /** A fop the translator originates; parentOp -1: not on a handler's call stack. */
  originate(code: number, child: number, fields: unknown[], sources: unknown[], cookie: number, parentOp: number,
    caller: unknown): void;
  /** The xlator's children's names, in volfile order. */
  children(): string[];
  unwind(op: number, reply: number, fields: unknown[] | undefined): boolean;
  fail(op: number, errno: number, why?: string): boolean;
  release(op: number, replies: number[]): void;
  log(level: number, msg: string): void;
  publish(snapshot: string): void;
  /** The local files the module loaded: option watch reloads when one changes. */
  sources(files: string[]): void;
  finiDone(): void;
  handoffDone(state: Buffer | null): void;
  fastGen(): bigint;
  fastNegative(pargfid: string, name: string, gen: bigint, ttlMs: number): void;
  fastComplete(pargfid: string, names: string[], gen: bigint, ttlMs: number): void;
  fastInvalidate(pargfid?: string, name?: string): void;
  fastStats(): FastStats;
  fastLearn(ttlMs: number, maxNames: number): void;
}

/** What the native side calls on the JS thread, one message at a time. */
export interface Callbacks {
  onFop(op: number, code: number): void;
  onReply(cookie: number, reply: number): void;
  onEvent(type: number, gfid: string, flags: number, pargfid: string, oldpargfid: string): void;
  onExpired(op: number): void;
  onFini(): void;
  onHandoff(): void;
}
