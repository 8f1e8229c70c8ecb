// nlc: a negative-lookup cache. A PHP app probing an include path makes most
// lookups fail, each one a round trip to the brick. nlc remembers the misses
// (parent gfid + name -> ENOENT) and answers them without winding, and it knows
// whole directories once it has seen all of them (a complete readdirp, or a
// mkdir of its own): any other name there is a miss, even the first time.
// With `fast on` (the default) the answers are installed in glujs's native
// fast path and served on the GlusterFS thread; JS keeps the policy: what to
// learn, when it expires, LRU within `limit`, and every invalidation.
// On a FUSE mount with negative-timeout=N (README, "The kernel tier") the
// kernel itself answers the repeats, and glujs keeps what it holds coherent
// with the same invalidations; `timeout` and `limit` bound it too.
// Shows a cache on the native fast path, and a translator in two files: the
// fops here, the cache in nlc-cache.ts (as nl-cache.c and nl-cache-helper.c).
//
//   glujs dev examples/nlc.ts --option timeout=60
import { Translator, type Op, type NotifyEvent, type Gfid } from 'glujs';
import { NameCache, type Stamp } from './nlc-cache';

const NULL_GFID = '00000000-0000-0000-0000-000000000000';

interface Listing { gfid: Gfid; names: string[]; next: bigint; stamp: Stamp }
type Cause = keyof NegativeLookupCache['stats']['inval'];

export default class NegativeLookupCache extends Translator {
  /** other clients' creates reach it by upcall (features.cache-invalidation on the bricks) */
  static requires = { upcall: true };
  static options = {
    timeout: { type: 'time', default: 60, description: 'seconds a learnt answer stays valid' },
    limit: { type: 'size', default: '16MB', description: 'memory for cached names; LRU beyond it' },
    fast: { type: 'boolean', default: true, description: 'serve hits natively on the GlusterFS thread' },
  } as const;

  private readonly cache = new NameCache({
    ttlMs: Number(this.options.timeout) * 1000,
    limit: Number(this.options.limit),
    fast: this.options.fast ? this.fast : undefined,
  });
  private readonly listings = new Map<number, Listing>(); // fd id -> readdirp in progress
  private readonly stats = {
    hits: 0, misses: 0,
    inval: { create: 0, mknod: 0, mkdir: 0, symlink: 0, link: 0, rename: 0, rmdir: 0, upcall: 0, child: 0 },
  };

  init() {
    // With the fast path, lookups are learnt natively too: a miss is wound by
    // C and its ENOENT recorded there, so no lookup crosses to JS. JS keeps the
    // policy (ttl, size) and every invalidation below.
    this.cache.learnNatively();
  }

  // ---- lookups (fast off, or nameless): answer from the cache, or learn from the child's ENOENT ----
  async lookup(op: Op<'lookup'>) {
    const { pargfid, name } = op.loc;
    if (!name || pargfid === NULL_GFID) return op.forward();
    if (this.cache.known(pargfid, name)) {
      this.stats.hits++;
      return op.fail('ENOENT');
    }
    this.stats.misses++;
    const stamp = this.cache.stamp();
    const reply = await op.wind();
    if (reply.opRet < 0 && reply.opErrno === 2 /* ENOENT */) this.cache.learn(pargfid, name, stamp);
    return reply;
  }

  // ---- whole directories: a readdirp from offset 0 to the end, or our own mkdir ----
  async readdirp(op: Op<'readdirp'>) {
    const { fd, offset } = op;
    let l = this.listings.get(fd.id);
    if (offset === 0) {
      l = { gfid: fd.gfid, names: [], next: 0n, stamp: this.cache.stamp() };
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
      this.cache.complete(l.gfid, l.names, l.stamp);
    } else {
      for (const e of reply.entries) l.names.push(e.name);
      l.next = reply.entries[reply.entries.length - 1].off;
    }
    return reply;
  }

  async mkdir(op: Op<'mkdir'>) {
    const stamp = this.cache.stamp();
    const reply = await op.wind();
    this.invalidateName(op.loc.pargfid, op.loc.name, 'mkdir');
    if (reply.opRet === 0) this.cache.complete(reply.buf.gfid, ['.', '..'], stamp); // new and empty
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
   * a lookup wound before then carries an older stamp and cannot re-add it. */
  private async afterWind<F extends 'create' | 'mknod' | 'symlink' | 'link' | 'rename'>(
    op: Op<F>, loc: { pargfid: Gfid; name: string | null }, why: Cause) {
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
      this.cache.clear();
    }
  }

  /** A name under pargfid may exist now. */
  private invalidateName(pargfid: Gfid, name: string | null, why: Cause) {
    this.stats.inval[why]++;
    this.cache.invalidateName(pargfid, name);
  }

  /** Everything known about a directory goes. */
  private drop(gfid: Gfid, why: Cause) {
    this.stats.inval[why]++;
    this.cache.drop(gfid);
  }

  dump() {
    const f = this.fast.stats();
    const s = this.stats, c = this.cache.counters;
    return {
      hits: s.hits + f.hits, native_hits: f.hits, js_hits: s.hits, misses: s.misses + f.learnt,
      learnt: c.learnt + f.learnt, native_learnt: f.learnt, native_entries: f.entries,
      complete_dirs: c.completeDirs, evictions: c.evictions, entries: this.cache.entries(), bytes: this.cache.bytes,
      ...Object.fromEntries(Object.entries(s.inval).map(([k, v]) => [`invalidations_${k}`, v])),
    };
  }
  fini() {
    this.log.info(`nl-cache counters: ${Object.entries(this.dump()).map(([k, v]) => `${k}=${v}`).join(' ')}`);
  }
}
