// Value types that fops carry, as JS sees them. The C forms are in
// native/bridge.h; lib/gen/fops.ts (generated) says which fop carries which.
import { DictType } from './gen/shared';

/** A GlusterFS gfid, as a UUID string ("00000000-0000-0000-0000-000000000001" is the root). */
export type Gfid = string;

/** struct iatt: GlusterFS's stat. `mode` is st_mode (type and permission bits). */
export interface Iatt {
  gfid: Gfid;
  ino: bigint;
  dev: number;
  mode: number;
  nlink: number;
  uid: number;
  gid: number;
  rdev: number;
  size: number;
  blksize: number;
  blocks: number;
  atime: number; atimeNsec: number;
  mtime: number; mtimeNsec: number;
  ctime: number; ctimeNsec: number;
  btime: number; btimeNsec: number;
  flags: number;
}

/** loc_t: where a fop applies. Read-only; `name` and `pargfid` are set for entry fops. */
export interface Loc {
  readonly path: string | null;
  readonly name: string | null;
  readonly gfid: Gfid;
  readonly pargfid: Gfid;
}

/** fd_t: an open file or directory. Read-only. */
export interface Fd {
  readonly gfid: Gfid;
  readonly flags: number;
  readonly pid: number;
  /** identifies this fd while it is open (two opens of one file differ) */
  readonly id: number;
}

/** inode_t, as its gfid. Read-only; unwound as it came. */
export interface Inode {
  readonly gfid: Gfid;
}

/** One gf_dirent_t of a readdir(p) reply. Filter, reorder or edit the array and return it. */
export interface DirEntry {
  name: string;
  ino: bigint;
  off: bigint;
  /** d_type (DT_REG 8, DT_DIR 4, DT_LNK 10, ...) */
  type: number;
  /** readdirp only */
  stat?: Iatt;
  /** position in the reply this entry came from (keeps its inode and xattrs); absent for new entries */
  readonly index?: number;
}

/** struct statvfs */
export interface Statvfs {
  bsize: number; frsize: number; blocks: number; bfree: number; bavail: number;
  files: number; ffree: number; favail: number; fsid: number; flag: number; namemax: number;
}

/** struct gf_flock. Read-only. */
export interface Flock {
  readonly type: number;
  readonly whence: number;
  readonly start: number;
  readonly len: number;
  readonly pid: number;
  readonly owner: Buffer;
}

/** A value glujs passes through untouched (leases, lock lists). */
export type Opaque = null;

/** GlusterFS dict value types (data_t), as native/gen/shared.h numbers them. */
export { DictType };
export type DictValue = string | number | bigint | Buffer;

/**
 * dict_t (xdata, xattrs): a Map from key to value. Values keep the GlusterFS type
 * they came with; new values get one from their JS type (string: Str, integer:
 * Int, other number: Double, bigint: Uint, Buffer: Bin), or set it with setTyped.
 */
export class Dict extends Map<string, DictValue> {
  readonly #types = new Map<string, DictType>();
  #version = 0;

  /**
   * A new Dict: empty, or a copy of a Dict (types kept), a Map, an iterable
   * of [key, value] pairs, or a plain object.
   */
  constructor(entries?: Dict | Iterable<readonly [string, DictValue]> | Record<string, DictValue> | null) {
    super(); // not super(entries): Map would call set() before #types exists
    if (entries === undefined || entries === null) return;
    if (typeof entries !== 'object')
      throw new TypeError(`a Dict is made from a Dict, a Map, [key, value] pairs or a plain object, not ${typeof entries}`);
    if (entries instanceof Dict) this.merge(entries);
    else if (Symbol.iterator in entries)
      for (const [k, v] of entries as Iterable<readonly [string, DictValue]>) this.set(k, v);
    else this.merge(toDict(entries as Record<string, DictValue>));
  }

  /** Sets a value with an explicit GlusterFS type (e.g. DictType.Gfid for a UUID string). */
  setTyped(key: string, value: DictValue, type: DictType): this {
    super.set(key, value);
    this.#types.set(key, type);
    this.#version++;
    return this;
  }
  override set(key: string, value: DictValue): this {
    const t = this.#types.get(key);
    if (t !== undefined && !compatible(t, value)) this.#types.delete(key);
    this.#version++;
    return super.set(key, value);
  }
  override delete(key: string): boolean {
    this.#types.delete(key);
    this.#version++;
    return super.delete(key);
  }
  override clear(): void {
    this.#types.clear();
    this.#version++;
    super.clear();
  }
  /** Sets every key of `other` here, with its type; returns this. */
  merge(other: Dict): this {
    for (const [k, v] of other) this.setTyped(k, v, other.typeOf(k)!);
    return this;
  }
  /** @internal Changes so far (the runtime winds a dict of an op edited in place). */
  get version(): number { return this.#version; }
  /** The GlusterFS type a value will be sent with. */
  typeOf(key: string): DictType | undefined {
    if (!this.has(key)) return undefined;
    return this.#types.get(key) ?? inferType(this.get(key)!);
  }
  /** @internal [key, type, value, ...] as the native side reads and writes it. */
  static fromFlat(flat: unknown[]): Dict {
    const d = new Dict();
    for (let i = 0; i + 2 < flat.length + 2 && i < flat.length; i += 3)
      d.setTyped(flat[i] as string, flat[i + 2] as DictValue, flat[i + 1] as DictType);
    return d;
  }
  /** @internal */
  toFlat(): unknown[] {
    const out: unknown[] = [];
    for (const [k, v] of this) out.push(k, this.typeOf(k), v);
    return out;
  }
}

function inferType(v: DictValue): DictType {
  if (typeof v === 'string') return DictType.Str;
  if (typeof v === 'bigint') return DictType.Uint;
  if (typeof v === 'number') return Number.isInteger(v) ? DictType.Int : DictType.Double;
  if (v instanceof Uint8Array) return DictType.Bin;
  throw new TypeError(`a Dict value must be a string, number, bigint or Buffer, not ${typeof v}`);
}

function compatible(t: DictType, v: DictValue): boolean {
  switch (t) {
    case DictType.Str: case DictType.Gfid: return typeof v === 'string';
    case DictType.Int: case DictType.Double: return typeof v === 'number';
    case DictType.Uint: return typeof v === 'number' || typeof v === 'bigint';
    default: return v instanceof Uint8Array;
  }
}

/** Accepts a Dict, a Map or a plain object wherever a dict is expected. */
export type DictLike = Dict | Map<string, DictValue> | Record<string, DictValue>;

export function toDict(v: DictLike): Dict {
  if (v instanceof Dict) return v;
  // a string, Buffer or array would be walked character by character (1 MB: seconds)
  const proto = v !== null && typeof v === 'object' ? Object.getPrototypeOf(v) : undefined;
  if (!(v instanceof Map) && proto !== Object.prototype && proto !== null)
    throw new TypeError(`xdata/dict must be a Dict, a Map or a plain object, not ${v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v !== 'object' ? typeof v : proto?.constructor?.name ?? 'an object'}`);
  const d = new Dict();
  for (const [k, x] of v instanceof Map ? v : Object.entries(v)) d.set(k, x);
  return d;
}
