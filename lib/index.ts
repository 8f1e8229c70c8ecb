/**
 * glujs: GlusterFS translators written in TypeScript.
 *
 * ```ts
 * import { Translator, type Op } from 'glujs';
 * export default class Hello extends Translator {
 *   async lookup(op: Op<'lookup'>) {
 *     const reply = await op.wind();
 *     this.log.info(`lookup ${op.loc.path} -> ${reply.opRet}`);
 *     return reply;
 *   }
 * }
 * ```
 * @packageDocumentation
 */
export {
  Translator, COMPLETED, JS_FOPS,
  type Op, type OpBase, type Reply, type MadeReply, type HandlerResult, type WindOverrides, type Completed,
  type JsFopName, type AnyOp, type AnyHandlerResult, type AnyHandler,
  type NotifyEvent, type Caller, type OptionSpec, type OptionValue, type Logger, type FastPath, type TranslatorContext,
} from './translator';
export { Dict, DictType, toDict, type DictValue, type DictLike, type Gfid, type Iatt, type Loc, type Fd, type Inode,
  type DirEntry, type Statvfs, type Flock, type Opaque } from './types';
export { errnoOf, errnoName, type ErrnoName } from './errno';
export { FOPS, type FopName, type FopArgs, type FopReplies, type FopHandlers } from './gen/fops';
