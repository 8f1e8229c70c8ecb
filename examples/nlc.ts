// nlc: a negative-lookup cache. A PHP app probing an include path makes most
// lookups fail, each one a round trip to the brick. nlc remembers the misses
// (parent gfid + name -> ENOENT) and answers them without winding, and it knows
// whole directories once it has seen all of them (a complete readdirp, or a
// mkdir of its own): any other name there is a miss, even the first time.
// With `fast on` (the default) the answers are installed in glujs's native
// fast path and served on the GlusterFS thread; JS keeps the policy: what to
// learn, when it expires, LRU within `limit`, and every invalidation.
import { Translator, type Op, type NotifyEvent, type Gfid } from 'glujs';

const NULL_GFID = '00000000-0000-0000-0000-000000000000';
const ENTRY_BYTES = 64; // rough cost of one cached name beyond its characters

interface Dir {
  neg: Map<string, number>;                            // name -> expiry (ms)
  complete?: { names: Set<string>; expires: number };  // the whole directory, when known
  bytes: number;
}
interface Listing { gfid: Gfid; names: string[]; next: bigint; gen: bigint; jsGen: number }

export default class NegativeLookupCache extends Translator {
  /** other clients' creates reach it by upcall (features.cache-invalidation on the bricks) */
  static requires = { upcall: true };
  static options = {
    timeout: { type: 'time', default: 60, description: 'seconds a learnt answer stays valid' },
    limit: { type: 'size', default: '16MB', description: 'memory for cached names; LRU beyond it' },
    fast: { type: 'boolean', default: true, description: 'serve hits natively on the GlusterFS thread' },
  } as const;

  private readonly ttlMs = Number(this.options.timeout) * 1000;
  private readonly limit = Number(this.options.limit);
  private readonly useFast = Boolean(this.options.fast);
  private readonly dirs = new Map<Gfid, Dir>();        // insertion order = LRU order
  private readonly invalidatedAt = new Map<Gfid, number>(); // dir -> JS generation of its last invalidation
  private readonly listings = new Map<number, Listing>(); // fd id -> readdirp in progress
  private jsGen = 0;
  private bytes = 0;
  private readonly stats = {
    hits: 0, misses: 0, learnt: 0, completeDirs: 0, evictions: 0,
    inval: { create: 0, mknod: 0, mkdir: 0, symlink: 0, link: 0, rename: 0, rmdir: 0, upcall: 0, child: 0 },
  };

  init() {
    // With the fast path, lookups are learnt natively too: a miss is wound by
    // C and its ENOENT recorded there, so no lookup crosses to JS. JS keeps the
    // policy (ttl, size) and every invalidation below.
    if (this.useFast) this.fast.learn(this.ttlMs, Math.max(1024, Math.floor(this.limit / (ENTRY_BYTES + 16))));
  }

  // ---- lookups (fast off, or nameless): answer from the cache, or learn from the child's ENOENT ----
  async lookup(op: Op<'lookup'>) {
    const { pargfid, name } = op.loc;
    if (!name || pargfid === NULL_GFID) return op.forward();
    if (this.known(pargfid, name)) {
      this.stats.hits++;
      return op.fail('ENOENT');
    }
    this.stats.misses++;
    const gen = this.useFast ? this.fast.gen() : 0n, jsGen = this.jsGen;
    const reply = await op.wind();
    if (reply.opRet < 0 && reply.opErrno === 2 /* ENOENT */) this.learn(pargfid, name, gen, jsGen);
    return reply;
  }

  // ---- whole directories: a readdirp from offset 0 to the end, or our own mkdir ----
  async readdirp(op: Op<'readdirp'>) {
    const { fd, offset } = op;
    let l = this.listings.get(fd.id);
    if (offset === 0) {
      l = { gfid: fd.gfid, names: [], next: 0n, gen: this.useFast ? this.fast.gen() : 0n, jsGen: this.jsGen };
      this.listings.set(fd.id, l);
    } else if (l && BigInt(offset) !== l.next) {
      this.listings.delete(fd.id); // a seek: not one straight listing
      l = undefined;
    }
    const reply = await op.wind();
    if (!l || this.listings.get(fd.id) !== l) return reply;
    if (reply.opRet < 0) {
      this.listings.delete(fd.id);
    } else if (reply.opRet === 0) {
      this.listings.delete(fd.id);
      this.setComplete(l.gfid, l.names, l.gen, l.jsGen);
    } else {
      for (const e of reply.entries) l.names.push(e.name);
      l.next = reply.entries[reply.entries.length - 1].off;
    }
    return reply;
  }

  async mkdir(op: Op<'mkdir'>) {
    const gen = this.useFast ? this.fast.gen() : 0n, jsGen = this.jsGen;
    const reply = await op.wind();
    this.invalidateName(op.loc.pargfid, op.loc.name, 'mkdir');
    if (reply.opRet === 0) this.setComplete(reply.buf.gfid, ['.', '..'], gen, jsGen); // new and empty
    return reply;
  }

  // ---- everything of this client that can make a name exist ----
  async create(op: Op<'create'>) { return this.afterWind(op, op.loc, 'create'); }
  async mknod(op: Op<'mknod'>) { return this.afterWind(op, op.loc, 'mknod'); }
  async symlink(op: Op<'symlink'>) { return this.afterWind(op, op.loc, 'symlink'); }
  async link(op: Op<'link'>) { return this.afterWind(op, op.newloc, 'link'); }
  async rename(op: Op<'rename'>) { return this.afterWind(op, op.newloc, 'rename'); }
  async rmdir(op: Op<'rmdir'>) {
    const reply = await op.wind();
    if (reply.opRet === 0) this.drop(op.loc.gfid, 'rmdir'); // its cached contents are gone with it
    return reply;
  }

  /** Invalidate after the child's reply (success or not: EEXIST means it exists):
   * a lookup wound before then carries an older generation and cannot re-add it. */
  private async afterWind<F extends 'create' | 'mknod' | 'symlink' | 'link' | 'rename'>(
    op: Op<F>, loc: { pargfid: Gfid; name: string | null }, why: keyof NegativeLookupCache['stats']['inval']) {
    const reply = await op.wind();
    this.invalidateName(loc.pargfid, loc.name, why);
    return reply;
  }

  // ---- other clients (upcall from the brick), the child going away ----
  notify(ev: NotifyEvent) {
    if (ev.type === 'upcall') {
      for (const g of [ev.gfid, ev.pargfid, ev.oldpargfid]) if (g !== NULL_GFID) this.drop(g, 'upcall');
    } else {
      this.stats.inval.child++;
      this.dirs.clear();
      this.bytes = 0;
      this.jsGen++;
      this.invalidatedAt.clear();
      this.floor = this.jsGen;
      if (this.useFast) this.fast.invalidate();
    }
  }
  private floor = 0; // JS answers learnt at or before this generation are refused

  dump() {
    const f = this.fast.stats();
    const s = this.stats;
    return {
      hits: s.hits + f.hits, native_hits: f.hits, js_hits: s.hits, misses: s.misses + f.learnt,
      learnt: s.learnt + f.learnt, native_learnt: f.learnt, native_entries: f.entries,
      complete_dirs: s.completeDirs, evictions: s.evictions, entries: this.countEntries(), bytes: this.bytes,
      ...Object.fromEntries(Object.entries(s.inval).map(([k, v]) => [`invalidations_${k}`, v])),
    };
  }
  fini() {
    this.log.info(`nl-cache counters: ${Object.entries(this.dump()).map(([k, v]) => `${k}=${v}`).join(' ')}`);
  }

  // ---- the cache itself ----
  private known(pargfid: Gfid, name: string): boolean {
    const d = this.dirs.get(pargfid);
    if (!d) return false;
    const now = Date.now();
    const exp = d.neg.get(name);
    let hit = exp !== undefined && exp > now;
    if (!hit && d.complete && d.complete.expires > now && !d.complete.names.has(name)) hit = true;
    if (hit) { this.dirs.delete(pargfid); this.dirs.set(pargfid, d); } // LRU touch
    return hit;
  }

  private stale(pargfid: Gfid, jsGen: number): boolean {
    return jsGen < this.floor || (this.invalidatedAt.get(pargfid) ?? -1) > jsGen;
  }

  private dir(pargfid: Gfid): Dir {
    let d = this.dirs.get(pargfid);
    if (!d) this.dirs.set(pargfid, (d = { neg: new Map(), bytes: 0 }));
    return d;
  }

  private learn(pargfid: Gfid, name: string, gen: bigint, jsGen: number) {
    if (this.stale(pargfid, jsGen)) return;
    const d = this.dir(pargfid);
    if (!d.neg.has(name)) {
      d.bytes += name.length + ENTRY_BYTES;
      this.bytes += name.length + ENTRY_BYTES;
    }
    d.neg.set(name, Date.now() + this.ttlMs);
    this.stats.learnt++;
    if (this.useFast) this.fast.negative(pargfid, name, gen, this.ttlMs);
    this.evict();
  }

  private setComplete(gfid: Gfid, names: string[], gen: bigint, jsGen: number) {
    if (this.stale(gfid, jsGen)) return;
    const d = this.dir(gfid);
    const size = (ns: Iterable<string>) => { let n = 0; for (const x of ns) n += x.length + ENTRY_BYTES; return n; };
    const delta = size(names) - (d.complete ? size(d.complete.names) : 0);
    this.bytes += delta;
    d.bytes += delta;
    d.complete = { names: new Set(names), expires: Date.now() + this.ttlMs };
    this.stats.completeDirs++;
    if (this.useFast) this.fast.complete(gfid, names, gen, this.ttlMs);
    this.evict();
  }

  /** A name under pargfid may exist now. */
  private invalidateName(pargfid: Gfid, name: string | null, why: keyof NegativeLookupCache['stats']['inval']) {
    this.stats.inval[why]++;
    this.invalidatedAt.set(pargfid, ++this.jsGen);
    const d = this.dirs.get(pargfid);
    if (d && name) {
      if (d.neg.delete(name)) { d.bytes -= name.length + ENTRY_BYTES; this.bytes -= name.length + ENTRY_BYTES; }
      if (d.complete) { d.complete.names.add(name); d.bytes += name.length + ENTRY_BYTES; this.bytes += name.length + ENTRY_BYTES; }
    } else if (d) {
      this.forgetDir(pargfid, d);
    }
    if (this.useFast) this.fast.invalidate(pargfid, name ?? undefined);
    if (this.invalidatedAt.size > 100_000) this.pruneInvalidations();
  }

  /** Everything known about a directory goes. */
  private drop(gfid: Gfid, why: keyof NegativeLookupCache['stats']['inval']) {
    this.stats.inval[why]++;
    this.invalidatedAt.set(gfid, ++this.jsGen);
    const d = this.dirs.get(gfid);
    if (d) this.forgetDir(gfid, d);
    if (this.useFast) this.fast.invalidate(gfid);
  }

  private forgetDir(gfid: Gfid, d: Dir) {
    this.dirs.delete(gfid);
    this.bytes -= d.bytes;
  }

  private evict() {
    while (this.bytes > this.limit && this.dirs.size) {
      const [gfid, d] = this.dirs.entries().next().value as [Gfid, Dir];
      this.forgetDir(gfid, d);
      this.stats.evictions++;
      if (this.useFast) this.fast.invalidate(gfid);
    }
  }

  /** Generations older than every op in flight cannot matter: keep the newest half. */
  private pruneInvalidations() {
    const keep = [...this.invalidatedAt].slice(-50_000);
    this.floor = Math.max(this.floor, keep[0]?.[1] ?? this.floor);
    this.invalidatedAt.clear();
    for (const [k, v] of keep) this.invalidatedAt.set(k, v);
  }

  private countEntries(): number {
    let n = 0;
    for (const d of this.dirs.values()) n += d.neg.size + (d.complete?.names.size ?? 0);
    return n;
  }
}
