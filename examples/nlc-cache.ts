// nlc-cache: the cache of examples/nlc.ts, kept apart from its fops as
// GlusterFS's nl-cache keeps nl-cache-helper.c apart from nl-cache.c. Not a
// translator: nlc.ts imports it. Per parent directory it holds the names
// known to be missing and, for a directory seen whole, the names present;
// answers expire, and LRU eviction of directories keeps it within a byte
// limit. Given glujs's fast path, it mirrors every answer and invalidation
// there, so that C serves the hits on the GlusterFS thread.
//
// Races are closed by one scheme of generations. `stamp()` before winding the
// fop whose reply teaches something, and pass the stamp back with what it
// taught: a directory invalidated after the stamp was taken refuses it. With
// the fast path the generations are the fast path's own, so one stamp serves
// the JS table and the native one alike; without it, a counter here.
import type { FastPath, Gfid } from 'glujs';

const ENTRY_BYTES = 64; // rough cost of one cached name beyond its characters

/** A generation, from `stamp()`; taken before winding. */
export type Stamp = bigint;

interface Dir {
  neg: Map<string, number>;                            // name -> expiry (ms)
  complete?: { names: Set<string>; expires: number };  // the whole directory, when known
  bytes: number;
}

export interface NameCacheOptions {
  /** how long an answer stays valid (ms) */
  ttlMs: number;
  /** bytes of cached names; the least recently used directories go beyond it */
  limit: number;
  /** the native fast path to mirror answers into (omit: JS answers alone) */
  fast?: FastPath;
}

export class NameCache {
  readonly counters = { learnt: 0, completeDirs: 0, evictions: 0 };
  private readonly ttlMs: number;
  private readonly limit: number;
  private readonly fast: FastPath | undefined;
  private readonly dirs = new Map<Gfid, Dir>();               // insertion order = LRU order
  private readonly invalidatedAt = new Map<Gfid, Stamp>();    // dir -> generation of its last invalidation, oldest first
  private floor: Stamp = 0n;                                  // stamps older than this are refused everywhere
  private gen: Stamp = 0n;                                    // the clock when there is no fast path
  private bytesHeld = 0;

  constructor(o: NameCacheOptions) {
    this.ttlMs = o.ttlMs;
    this.limit = o.limit;
    this.fast = o.fast;
  }

  /** Bytes the cached names take (roughly). */
  get bytes(): number { return this.bytesHeld; }

  /** The generation now: take it before winding a fop you will learn from. */
  stamp(): Stamp {
    return this.fast ? this.fast.gen() : this.gen;
  }

  /** Lets the fast path learn lookups itself: a miss is wound by C and its
   * ENOENT recorded there, under the same generations. */
  learnNatively(): void {
    this.fast?.learn(this.ttlMs, Math.max(1024, Math.floor(this.limit / (ENTRY_BYTES + 16))));
  }

  // ---- answers ----

  /** Whether lookup(pargfid, name) is known to be ENOENT. */
  known(pargfid: Gfid, name: string): boolean {
    const d = this.dirs.get(pargfid);
    if (!d) return false;
    const now = Date.now();
    const exp = d.neg.get(name);
    let hit = exp !== undefined && exp > now;
    if (!hit && d.complete && d.complete.expires > now && !d.complete.names.has(name)) hit = true;
    if (hit) { this.dirs.delete(pargfid); this.dirs.set(pargfid, d); } // LRU touch
    return hit;
  }

  /** A lookup stamped `stamp` found name missing under pargfid. */
  learn(pargfid: Gfid, name: string, stamp: Stamp): void {
    if (this.stale(pargfid, stamp)) return;
    const d = this.dir(pargfid);
    if (!d.neg.has(name)) this.charge(d, name.length + ENTRY_BYTES);
    d.neg.set(name, Date.now() + this.ttlMs);
    this.counters.learnt++;
    this.fast?.negative(pargfid, name, stamp, this.ttlMs);
    this.evict();
  }

  /** gfid holds exactly `names` (a complete listing, or a new directory), as of `stamp`. */
  complete(gfid: Gfid, names: string[], stamp: Stamp): void {
    if (this.stale(gfid, stamp)) return;
    const d = this.dir(gfid);
    const size = (ns: Iterable<string>) => { let n = 0; for (const x of ns) n += x.length + ENTRY_BYTES; return n; };
    this.charge(d, size(names) - (d.complete ? size(d.complete.names) : 0));
    d.complete = { names: new Set(names), expires: Date.now() + this.ttlMs };
    this.counters.completeDirs++;
    this.fast?.complete(gfid, names, stamp, this.ttlMs);
    this.evict();
  }

  // ---- invalidations ----

  /** A name under pargfid may exist now (no name: anything under it may). */
  invalidateName(pargfid: Gfid, name: string | null): void {
    this.fast?.invalidate(pargfid, name ?? undefined);
    this.stampInvalidation(pargfid);
    const d = this.dirs.get(pargfid);
    if (d && name) {
      if (d.neg.delete(name)) this.charge(d, -(name.length + ENTRY_BYTES));
      if (d.complete) { d.complete.names.add(name); this.charge(d, name.length + ENTRY_BYTES); }
    } else if (d) {
      this.forgetDir(pargfid, d);
    }
  }

  /** Everything known about a directory goes. */
  drop(gfid: Gfid): void {
    this.fast?.invalidate(gfid);
    this.stampInvalidation(gfid);
    const d = this.dirs.get(gfid);
    if (d) this.forgetDir(gfid, d);
  }

  /** Everything goes, and nothing stamped before now may come back. */
  clear(): void {
    this.fast?.invalidate();
    this.dirs.clear();
    this.bytesHeld = 0;
    this.invalidatedAt.clear();
    this.floor = this.tick();
  }

  /** How many names the JS table holds (missing ones and present ones). */
  entries(): number {
    let n = 0;
    for (const d of this.dirs.values()) n += d.neg.size + (d.complete?.names.size ?? 0);
    return n;
  }

  // ---- generations ----

  /** Advances the clock for an invalidation and returns the new generation
   * (the fast path's invalidate has advanced its own). */
  private tick(): Stamp {
    return this.fast ? this.fast.gen() : ++this.gen;
  }

  private stampInvalidation(gfid: Gfid): void {
    this.invalidatedAt.delete(gfid); // keep the map in generation order, oldest first
    this.invalidatedAt.set(gfid, this.tick());
    if (this.invalidatedAt.size > 100_000) this.pruneInvalidations();
  }

  /** Whether what a fop stamped `stamp` taught about gfid came before an invalidation of it. */
  private stale(gfid: Gfid, stamp: Stamp): boolean {
    return stamp < this.floor || (this.invalidatedAt.get(gfid) ?? -1n) > stamp;
  }

  /** Generations older than every op in flight cannot matter: keep the newest half. */
  private pruneInvalidations(): void {
    const keep = [...this.invalidatedAt].slice(-50_000);
    const oldest = keep[0]?.[1] ?? this.floor;
    if (oldest > this.floor) this.floor = oldest;
    this.invalidatedAt.clear();
    for (const [k, v] of keep) this.invalidatedAt.set(k, v);
  }

  // ---- memory ----

  private dir(gfid: Gfid): Dir {
    let d = this.dirs.get(gfid);
    if (!d) this.dirs.set(gfid, (d = { neg: new Map(), bytes: 0 }));
    return d;
  }

  private charge(d: Dir, bytes: number): void {
    d.bytes += bytes;
    this.bytesHeld += bytes;
  }

  private forgetDir(gfid: Gfid, d: Dir): void {
    this.dirs.delete(gfid);
    this.bytesHeld -= d.bytes;
  }

  private evict(): void {
    for (const [gfid, d] of this.dirs) { // least recently used first
      if (this.bytesHeld <= this.limit) break;
      this.forgetDir(gfid, d);
      this.counters.evictions++;
      this.fast?.invalidate(gfid);
    }
  }
}
