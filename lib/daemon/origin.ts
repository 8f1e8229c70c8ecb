// Fops the translator originates: this.children[i].<fop>(args, { caller }),
// from a handler (on its op's call stack, as STACK_WIND does in C) or from
// anywhere else (a new call stack with the daemon's credentials). A loc given
// as { path } is resolved here, by lookups from the root through that child;
// the native side links what they find, as fuse-bridge does for its own.
import util from 'node:util';
import { FOPS, type FopName } from '../gen/fops';
import { errnoName } from '../errno';
import { NOT_ORIGINATED, type Child, type OriginateOptions } from '../translator';
import { currentOp, REFS, sources, type Dispatcher, type ReplyImpl } from './dispatch';
import { toDict, type DictLike } from '../types';

const ROOT_GFID = '00000000-0000-0000-0000-000000000001';
const ENOENT = 2;
const IFDIR = 0o040000, IFMT = 0o170000;

/** The loc arguments that may name an entry that does not exist yet (the fop makes it). */
const ENTRY_LOCS: Partial<Record<FopName, string>> = {
  lookup: 'loc', create: 'loc', mkdir: 'loc', mknod: 'loc', symlink: 'loc', link: 'newloc', rename: 'newloc',
};

/** An error of a fop that could not be originated (path resolution): with its errno. */
function fopError(errno: number, msg: string): Error {
  return Object.assign(new Error(`${msg}: ${errnoName(errno)}`), { errno, code: errnoName(errno) });
}

function plain(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object') return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** Originates fops for one Dispatcher's translator. */
export class Originator {
  readonly children: readonly Child[];
  constructor(readonly d: Dispatcher) {
    const names = d.native.children();
    this.children = Object.freeze(names.map((name, i) => makeChild(this, name, i)));
  }

  /** The fop `fop` on child `child`: resolves to its reply (opRet -1 and its errno on failure). */
  async originate(fop: FopName, child: number, args: unknown, opts?: OriginateOptions): Promise<ReplyImpl> {
    const info = FOPS[fop];
    if (fop in NOT_ORIGINATED) throw new TypeError(`${fop} cannot be originated: ${NOT_ORIGINATED[fop as keyof typeof NOT_ORIGINATED]}`);
    if (args === undefined) args = {};
    if (!plain(args)) throw new TypeError(`${fop}: the arguments are a plain object of fields (as in docs/fops.md)`);
    if (opts !== undefined && !plain(opts)) throw new TypeError(`${fop}: the options are { caller }`);
    for (const k of Object.keys(opts ?? {})) if (k !== 'caller') throw new TypeError(`${fop}: no option '${k}' (it has: caller)`);
    const caller = opts?.caller;
    if (caller !== undefined && !plain(caller)) throw new TypeError(`${fop}: caller is { uid, gid, groups, pid, lkOwner }`);
    const names = info.args as readonly string[], kinds = info.argKinds as readonly string[];
    const fields: unknown[] = new Array(names.length), srcs: unknown[] = new Array(names.length);
    const parent = currentOp.getStore();
    for (const [k, v] of Object.entries(args)) {
      const i = names.indexOf(k);
      if (i < 0) throw new TypeError(`${fop} has no argument '${k}' (it has: ${names.join(', ')})`);
      if (v === undefined) continue;
      if (REFS.has(kinds[i])) {
        let ref = v;
        if (kinds[i] === 'loc' && plain(v) && !sources.has(v) && v.path !== undefined && v.gfid === undefined && v.pargfid === undefined)
          ref = await this.resolve(fop, child, v.path, ENTRY_LOCS[fop] === k, caller);
        fields[i] = ref;
        if (ref !== null && typeof ref === 'object') srcs[i] = sources.get(ref)?.at;
      } else {
        fields[i] = kinds[i] === 'dict' && v !== null ? toDict(v as DictLike).toFlat() : v;
      }
    }
    const d = this.d;
    const cookie = d.nextCookie++;
    const reply = new Promise<ReplyImpl>((resolve) => d.origins.set(cookie, { code: info.code, resolve }));
    try {
      d.native.originate(info.code, child, fields, srcs, cookie, parent && !parent.completed ? parent.id : -1, caller);
    } catch (e) {
      d.origins.delete(cookie);
      throw e;
    }
    return reply;
  }

  /** A loc for `path`: its parent looked up from the root, component by
   * component, then the name itself (unless `entry` and it does not exist). */
  private async resolve(fop: string, child: number, path: unknown, entry: boolean, caller: unknown): Promise<object> {
    if (typeof path !== 'string' || !path.startsWith('/'))
      throw new TypeError(`${fop}: a loc's path is absolute ('/dir/name'), not ${util.inspect(path)}`);
    const parts = path.split('/').filter((p) => p !== '');
    if (parts.some((p) => p === '.' || p === '..')) throw new TypeError(`${fop}: a loc's path has no '.' or '..' (${path})`);
    if (parts.length === 0) return { gfid: ROOT_GFID };
    let pargfid = ROOT_GFID;
    for (let i = 0; i < parts.length; i++) {
      const last = i === parts.length - 1;
      const r = await this.originate('lookup', child, { loc: { pargfid, name: parts[i] } }, caller === undefined ? undefined : { caller } as OriginateOptions);
      const opRet = r.fieldAt(0) as number, opErrno = r.fieldAt(1) as number;
      const buf = opRet < 0 ? undefined : r.fieldAt(3) as { gfid: string; mode: number };
      this.d.dropReply(r); // the inode it linked stays in the table, found by its gfid
      const at = '/' + parts.slice(0, i + 1).join('/');
      if (opRet < 0) {
        if (last && entry && opErrno === ENOENT) return { pargfid, name: parts[i] };
        throw fopError(opErrno, `${fop} ${path}: the lookup of ${at} failed`);
      }
      if (!buf) throw new Error('unreachable');
      if (last) return { pargfid, name: parts[i], gfid: buf.gfid };
      if ((buf.mode & IFMT) !== IFDIR) throw fopError(20 /* ENOTDIR */, `${fop} ${path}: ${at} is not a directory`);
      pargfid = buf.gfid;
    }
    throw new Error('unreachable');
  }
}

/** One child: its name, and a method per fop a JS handler can take. */
function makeChild(o: Originator, name: string, index: number): Child {
  const c: Record<string, unknown> = { name, index };
  for (const fop of Object.keys(FOPS) as FopName[]) {
    if (!FOPS[fop].js || fop in NOT_ORIGINATED) continue;
    c[fop] = (args?: unknown, opts?: OriginateOptions) => o.originate(fop, index, args, opts);
  }
  return Object.freeze(c) as unknown as Child;
}
