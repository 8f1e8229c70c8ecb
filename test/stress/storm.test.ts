// Concurrency: 8 worker processes mix data I/O with a metadata storm (create, write,
// read-and-compare, truncate, rename, rename-replace, unlink, mkdir, rmdir, directory
// rename, symlink, chmod, fsync, and xattrs via setfattr/getfattr) through handlers
// that await the wind (test/fixtures/passthru.ts), all in one directory tree with a
// directory every worker uses at once. Each worker keeps a model of what it owns.
// Checks: every operation completes within a guard timeout (no deadlock), every
// operation started was completed (no lost completion), no operation fails, every
// read returns what the model says, at the end each worker's tree and xattrs match
// its model, and the whole tree through the mount matches the brick.
// Fast mode: 15 s. GLUJS_STRESS=full: 300 s. GLUJS_STRESS_SEED replays a run.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import crypto from 'node:crypto';
import { withVolume } from '../../lib/testing';
import { fixture, glujs, readTree } from '../util';
import {
  crashLines, exec, fopCounts, guard, glujsErrors, health, healthLine, hostLine, inFlight, pick, report, rng, sleep, sumCounts, treeDiff,
} from './common';

const WORKERS = 8;

interface WorkerCfg { root: string; id: number; seconds: number; guardMs: number; seed: number; }
interface WorkerResult {
  id: number; seed: number; started: number; completed: number; ops: Record<string, number>;
  errors: string[]; errorCount: number; mismatches: string[]; stuck: string[]; maxMs: number; maxOp: string;
  files: number; dirs: number; xattrs: number; bytesWritten: number; bytesRead: number;
}

type Entry = { kind: 'file'; data: Buffer; mode: number } | { kind: 'dir'; mode: number } | { kind: 'link'; target: string };

// ---------------------------------------------------------------- worker side
async function worker(cfg: WorkerCfg): Promise<WorkerResult> {
  const rand = rng(cfg.seed);
  const int = (n: number) => Math.floor(rand() * n);
  const choose = <T>(a: T[]): T | undefined => (a.length ? a[int(a.length)] : undefined);
  const own = `w${cfg.id}`, shared = 'shared', prefix = `w${cfg.id}-`;
  const abs = (rel: string) => path.join(cfg.root, rel);
  const model = new Map<string, Entry>();
  const xattrs = new Map<string, Map<string, string>>();
  const res: WorkerResult = {
    id: cfg.id, seed: cfg.seed, started: 0, completed: 0, ops: {}, errors: [], errorCount: 0, mismatches: [], stuck: [],
    maxMs: 0, maxOp: '', files: 0, dirs: 0, xattrs: 0, bytesWritten: 0, bytesRead: 0,
  };
  let seq = 0;
  const fresh = (p: string) => `${p}${seq++}`;
  const entries = (kind: Entry['kind']) => [...model].filter(([, e]) => e.kind === kind).map(([k]) => k);
  const ownDirs = () => [own, ...entries('dir')];
  const depth = (rel: string) => rel.split('/').length;
  const children = (dir: string) => [...model.keys()].filter((k) => path.dirname(k) === dir);
  const newPath = (kind: 'file' | 'link') => {
    if (rand() < 0.3) return `${shared}/${prefix}${fresh(kind[0])}`; // the directory all workers share
    return `${choose(ownDirs())}/${fresh(kind[0])}`;
  };
  const randomData = () => {
    const r = rand();
    const n = r < 0.7 ? int(4096) : r < 0.95 ? int(64 << 10) : int(1 << 20);
    return crypto.randomBytes(n);
  };
  const mismatch = (what: string) => { if (res.mismatches.length < 20) res.mismatches.push(what); };
  const setfattr = async (args: string[]) => {
    const r = await exec('setfattr', args, { timeoutMs: cfg.guardMs });
    if (r.code !== 0) throw Object.assign(new Error(`setfattr ${args.join(' ')}: ${r.err.trim()}`), { code: `setfattr exit ${r.code}` });
  };

  // Each op returns false when it had nothing to work on (it is then not counted).
  const ops: [number, string, () => Promise<boolean>][] = [
    [10, 'create', async () => {
      const p = newPath('file'), data = randomData(), mode = 0o644;
      await fsp.writeFile(abs(p), data, { mode, flag: 'wx' });
      model.set(p, { kind: 'file', data, mode });
      res.bytesWritten += data.length;
      return true;
    }],
    [10, 'write', async () => {
      const p = choose(entries('file')); if (!p) return false;
      const e = model.get(p) as Entry & { kind: 'file' };
      const off = int(e.data.length + 1), data = crypto.randomBytes(1 + int(128 << 10));
      const fh = await fsp.open(abs(p), 'r+');
      try { await fh.write(data, 0, data.length, off); } finally { await fh.close(); }
      const next = Buffer.alloc(Math.max(e.data.length, off + data.length));
      e.data.copy(next); data.copy(next, off); e.data = next;
      res.bytesWritten += data.length;
      return true;
    }],
    [5, 'append', async () => {
      const p = choose(entries('file')); if (!p) return false;
      const e = model.get(p) as Entry & { kind: 'file' };
      const data = crypto.randomBytes(1 + int(8192));
      await fsp.appendFile(abs(p), data);
      e.data = Buffer.concat([e.data, data]);
      res.bytesWritten += data.length;
      return true;
    }],
    [10, 'read', async () => {
      const p = choose(entries('file')); if (!p) return false;
      const got = await fsp.readFile(abs(p));
      const want = (model.get(p) as Entry & { kind: 'file' }).data;
      res.bytesRead += got.length;
      if (!got.equals(want)) mismatch(`read ${p}: ${got.length} bytes, model ${want.length} (${hash(got)} vs ${hash(want)})`);
      return true;
    }],
    [3, 'truncate', async () => {
      const p = choose(entries('file')); if (!p) return false;
      const e = model.get(p) as Entry & { kind: 'file' };
      const len = int(e.data.length + 4097);
      await fsp.truncate(abs(p), len);
      const next = Buffer.alloc(len); e.data.copy(next, 0, 0, Math.min(len, e.data.length)); e.data = next;
      return true;
    }],
    [2, 'fsync', async () => {
      const p = choose(entries('file')); if (!p) return false;
      const e = model.get(p) as Entry & { kind: 'file' };
      const data = crypto.randomBytes(1 + int(4096));
      const fh = await fsp.open(abs(p), 'a');
      try { await fh.write(data); await fh.sync(); } finally { await fh.close(); }
      e.data = Buffer.concat([e.data, data]);
      return true;
    }],
    [8, 'stat', async () => {
      const p = choose([...model.keys()]); if (!p) return false;
      const st = await fsp.lstat(abs(p));
      const e = model.get(p)!;
      const kind = st.isSymbolicLink() ? 'link' : st.isDirectory() ? 'dir' : st.isFile() ? 'file' : 'other';
      if (kind !== e.kind) mismatch(`stat ${p}: ${kind}, model ${e.kind}`);
      else if (e.kind === 'file' && st.size !== e.data.length) mismatch(`stat ${p}: size ${st.size}, model ${e.data.length}`);
      else if (e.kind !== 'link' && (st.mode & 0o7777) !== e.mode) mismatch(`stat ${p}: mode ${(st.mode & 0o7777).toString(8)}, model ${e.mode.toString(8)}`);
      return true;
    }],
    [4, 'readdir', async () => {
      const d = rand() < 0.3 ? shared : choose(ownDirs())!;
      let names = await fsp.readdir(abs(d));
      if (d === shared) names = names.filter((n) => n.startsWith(prefix));
      const want = children(d).map((k) => path.basename(k));
      if (names.sort().join('/') !== want.sort().join('/')) mismatch(`readdir ${d}: [${names}] model [${want}]`);
      return true;
    }],
    [8, 'rename', async () => {
      const p = choose([...entries('file'), ...entries('link')]); if (!p) return false;
      // one time in five onto another file of ours (rename replaces it)
      const victim = rand() < 0.2 ? choose(entries('file').filter((f) => f !== p)) : undefined;
      const to = victim ?? newPath('file');
      await fsp.rename(abs(p), abs(to));
      model.set(to, model.get(p)!); model.delete(p);
      xattrs.delete(to);
      if (xattrs.has(p)) { xattrs.set(to, xattrs.get(p)!); xattrs.delete(p); }
      return true;
    }],
    [6, 'unlink', async () => {
      const p = choose([...entries('file'), ...entries('link')]); if (!p) return false;
      await fsp.unlink(abs(p));
      model.delete(p); xattrs.delete(p);
      return true;
    }],
    [4, 'mkdir', async () => {
      const parent = choose(ownDirs().filter((d) => depth(d) < 4))!;
      const p = `${parent}/${fresh('d')}`;
      await fsp.mkdir(abs(p), { mode: 0o755 });
      model.set(p, { kind: 'dir', mode: 0o755 });
      return true;
    }],
    [2, 'rmdir', async () => {
      const p = choose(entries('dir').filter((d) => children(d).length === 0)); if (!p) return false;
      await fsp.rmdir(abs(p));
      model.delete(p); xattrs.delete(p);
      return true;
    }],
    [2, 'rename-dir', async () => {
      const p = choose(entries('dir')); if (!p) return false;
      const under = (k: string) => k === p || k.startsWith(p + '/');
      const maxDepth = Math.max(...[...model.keys()].filter(under).map(depth)) - depth(p);
      const parent = choose(ownDirs().filter((d) => !under(d) && depth(d) + 1 + maxDepth <= 5)); if (!parent) return false;
      const to = `${parent}/${fresh('d')}`;
      await fsp.rename(abs(p), abs(to));
      for (const m of [model, xattrs] as Map<string, unknown>[])
        for (const k of [...m.keys()].filter(under)) { m.set(to + k.slice(p.length), m.get(k)); m.delete(k); }
      return true;
    }],
    [2, 'symlink', async () => {
      const p = newPath('link'), target = `../target-${int(1000)}`;
      await fsp.symlink(target, abs(p));
      model.set(p, { kind: 'link', target });
      return true;
    }],
    [3, 'chmod', async () => {
      const p = choose([...entries('file'), ...entries('dir')]); if (!p) return false;
      const e = model.get(p) as Entry & { mode: number };
      const mode = e.kind === 'dir' ? choose([0o755, 0o700, 0o750])! : choose([0o600, 0o644, 0o640, 0o755])!;
      await fsp.chmod(abs(p), mode);
      e.mode = mode;
      return true;
    }],
    [4, 'setxattr', async () => {
      const p = choose([...entries('file'), ...entries('dir')]); if (!p) return false;
      const name = `user.k${int(4)}`, value = `v${int(1e9)}`;
      await setfattr(['-n', name, '-v', value, abs(p)]);
      if (!xattrs.has(p)) xattrs.set(p, new Map());
      xattrs.get(p)!.set(name, value);
      return true;
    }],
    [1, 'removexattr', async () => {
      const p = choose([...xattrs].filter(([, m]) => m.size > 0).map(([k]) => k)); if (!p) return false;
      const name = choose([...xattrs.get(p)!.keys()])!;
      await setfattr(['-x', name, abs(p)]);
      xattrs.get(p)!.delete(name);
      return true;
    }],
    [2, 'getxattr', async () => {
      const p = choose([...xattrs].filter(([, m]) => m.size > 0).map(([k]) => k)); if (!p) return false;
      const [name, value] = choose([...xattrs.get(p)!])!;
      const r = await exec('getfattr', ['--only-values', '-n', name, abs(p)], { timeoutMs: cfg.guardMs });
      if (r.code !== 0 || r.out !== value) mismatch(`getxattr ${p} ${name}: ${JSON.stringify(r.out)} (exit ${r.code}), model ${value}`);
      return true;
    }],
  ];
  const totalWeight = ops.reduce((n, [w]) => n + w, 0);
  const pickOp = () => {
    let x = rand() * totalWeight;
    for (const o of ops) if ((x -= o[0]) < 0) return o;
    return ops[ops.length - 1];
  };

  await fsp.mkdir(abs(own), { mode: 0o755 });
  const end = Date.now() + cfg.seconds * 1000;
  while (Date.now() < end && res.stuck.length === 0) {
    const [, name, fn] = pickOp();
    const t0 = performance.now();
    res.started++;
    try {
      const did = await guard(fn(), cfg.guardMs, `${name}`);
      res.completed++;
      if (!did) { res.started--; res.completed--; continue; }
      res.ops[name] = (res.ops[name] ?? 0) + 1;
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      if (/no completion within/.test(err.message)) { res.stuck.push(`${name}: ${err.message}`); break; }
      res.completed++;
      res.errorCount++;
      if (res.errors.length < 20) res.errors.push(`${name}: ${err.code ?? ''} ${err.message}`);
    }
    const ms = performance.now() - t0;
    if (ms > res.maxMs) { res.maxMs = ms; res.maxOp = name; }
  }

  // Final check of everything this worker owns against its model.
  if (res.stuck.length === 0) {
    const seen = new Set<string>();
    const walk = async (d: string) => {
      for (const n of await fsp.readdir(abs(d))) {
        if (d === shared && !n.startsWith(prefix)) continue;
        const p = `${d}/${n}`;
        seen.add(p);
        const e = model.get(p);
        const st = await fsp.lstat(abs(p));
        if (!e) { mismatch(`final: ${p} exists, not in the model`); continue; }
        if (st.isDirectory()) {
          if (e.kind !== 'dir') mismatch(`final: ${p} is a directory, model ${e.kind}`);
          await walk(p);
        } else if (st.isSymbolicLink()) {
          const target = await fsp.readlink(abs(p));
          if (e.kind !== 'link' || e.target !== target) mismatch(`final: ${p} -> ${target}, model ${JSON.stringify(e)}`);
        } else {
          const data = await fsp.readFile(abs(p));
          if (e.kind !== 'file' || !data.equals(e.data) || (st.mode & 0o7777) !== e.mode)
            mismatch(`final: ${p} ${data.length} bytes mode ${(st.mode & 0o7777).toString(8)}, model ${e.kind} ${e.kind === 'file' ? e.data.length : ''}`);
        }
      }
    };
    await guard(Promise.all([walk(own), walk(shared)]), cfg.guardMs * 4, 'final walk');
    for (const k of model.keys()) if (!seen.has(k)) mismatch(`final: ${k} is in the model, missing on the mount`);
    // xattrs, read back in batches with one getfattr each
    const want = [...xattrs].filter(([, m]) => m.size > 0);
    const paths = [...model].filter(([, e]) => e.kind !== 'link').map(([k]) => k);
    const got = new Map<string, Map<string, string>>();
    for (let i = 0; i < paths.length; i += 200) {
      const batch = paths.slice(i, i + 200);
      const r = await exec('getfattr', ['-d', '-m', '^user\\.', '-e', 'text', '--absolute-names', ...batch.map(abs)], { timeoutMs: cfg.guardMs });
      if (r.code !== 0) mismatch(`final getfattr: exit ${r.code}: ${r.err.slice(0, 300)}`);
      let cur: Map<string, string> | undefined;
      for (const line of r.out.split('\n')) {
        const f = /^# file: (.*)$/.exec(line);
        if (f) { got.set(path.relative(cfg.root, f[1]), (cur = new Map())); continue; }
        const kv = /^([^=]+)="(.*)"$/.exec(line);
        if (kv && cur) cur.set(kv[1], kv[2]);
      }
    }
    const fmt = (m?: Map<string, string>) => JSON.stringify([...(m ?? [])].sort());
    for (const [k, m] of want) if (fmt(got.get(k)) !== fmt(m)) mismatch(`final xattrs ${k}: ${fmt(got.get(k))}, model ${fmt(m)}`);
    for (const [k, m] of got) if (!xattrs.get(k)?.size && m.size) mismatch(`final xattrs ${k}: ${fmt(m)}, model none`);
    res.xattrs = want.reduce((n, [, m]) => n + m.size, 0);
  }
  res.files = entries('file').length;
  res.dirs = entries('dir').length;
  return res;
}

const hash = (b: Buffer) => crypto.createHash('sha1').update(b).digest('hex').slice(0, 12);

// ---------------------------------------------------------------- test side
if (process.env.GLUJS_STORM_WORKER) {
  worker(JSON.parse(process.env.GLUJS_STORM_WORKER)).then(
    (r) => { process.stdout.write(JSON.stringify(r) + '\n'); process.exit(0); },
    (e) => { process.stderr.write(`worker failed: ${(e as Error)?.stack ?? e}\n`); process.exit(2); },
  );
} else {
  const seconds = pick(15, 300);
  const guardMs = 60_000;

  test(`storm: ${WORKERS} workers, data I/O and a metadata storm for ${seconds} s through handlers that await the wind`, { timeout: (seconds + 600) * 1000 }, async (t) => {
    const v = await withVolume(t, { client: [glujs('pass', fixture('passthru.ts'))] });
    const root = path.join(v.mount, 'storm');
    fs.mkdirSync(path.join(root, 'shared'), { recursive: true });
    const seed = Number(process.env.GLUJS_STRESS_SEED) || (Date.now() % 1e9);
    const before = sumCounts(fopCounts(await v.statedump(0), 'pass'));

    // While the workers run: a statedump every few seconds (the daemon must stay responsive).
    let running = true, dumps = 0, maxInFlight = 0;
    const dumping = (async () => {
      while (running) {
        await sleep(3000);
        if (!running) break;
        const d = await v.statedump(0);
        dumps++;
        maxInFlight = Math.max(maxInFlight, inFlight(d, 'pass'));
      }
    })();
    const t0 = Date.now();
    const runs = await Promise.all(Array.from({ length: WORKERS }, (_, id) => exec(process.execPath, [__filename], {
      env: { ...process.env, GLUJS_STORM_WORKER: JSON.stringify({ root, id, seconds, guardMs, seed: seed + id } satisfies WorkerCfg) },
      timeoutMs: (seconds + 300) * 1000 + guardMs,
    })));
    const wall = (Date.now() - t0) / 1000;
    running = false;
    await dumping;

    const results: WorkerResult[] = [];
    const failures: string[] = [];
    runs.forEach((r, id) => {
      const line = r.out.trim().split('\n').pop() ?? '';
      if (r.code === 0 && line.startsWith('{')) results.push(JSON.parse(line));
      else failures.push(`worker ${id}: exit ${r.code} signal ${r.signal}${r.timedOut ? ' (killed: no end in time)' : ''}: ${r.err.slice(-1000)}`);
    });
    const mountTree = readTree(v.mount), brickTree = readTree(v.brickDir);
    const diff = treeDiff(mountTree, brickTree);
    await sleep(1100);
    const dump = await v.statedump(0);
    const jsFops = sumCounts(fopCounts(dump, 'pass')) - before, h = health(dump, 'pass');
    const log = v.log(0);
    const sum = (f: (r: WorkerResult) => number) => results.reduce((n, r) => n + f(r), 0);
    const opNames = [...new Set(results.flatMap((r) => Object.keys(r.ops)))].sort();
    const total = sum((r) => r.completed);

    report(`Storm: ${WORKERS} workers for ${seconds} s`, [
      `- ${new Date().toISOString()}; ${hostLine()}; seed ${seed} (GLUJS_STRESS_SEED replays)`,
      `- ${WORKERS} worker processes, one operation at a time each, through test/fixtures/passthru.ts; guard timeout ${guardMs / 1000} s per operation`,
      `- wall ${wall.toFixed(1)} s; operations started ${sum((r) => r.started)}, completed **${total}** ` +
        `(${(total / seconds).toFixed(0)}/s), failed **${sum((r) => r.errorCount)}**, stuck **${sum((r) => r.stuck.length)}**, ` +
        `model mismatches **${sum((r) => r.mismatches.length)}**, workers that did not finish **${failures.length}**`,
      `- slowest operation ${Math.max(0, ...results.map((r) => r.maxMs)).toFixed(0)} ms; ` +
        `${(sum((r) => r.bytesWritten) / 2 ** 20).toFixed(0)} MiB written, ${(sum((r) => r.bytesRead) / 2 ** 20).toFixed(0)} MiB read and compared`,
      `- at the end: ${sum((r) => r.files)} files, ${sum((r) => r.dirs)} directories, ${sum((r) => r.xattrs)} user xattrs checked; ` +
        `tree through the mount ${mountTree.size} entries vs brick ${brickTree.size}: **${diff.length} differences**`,
      `- fops that reached JS: ${jsFops.toLocaleString('en-US')}; ${dumps} statedumps during the storm, max ops in flight in glujs ${maxInFlight}, ` +
        `glujs counters at the end: ${healthLine(h)}`,
      '',
      `| op | ${opNames.join(' | ')} |`,
      `|---|${opNames.map(() => '---:').join('|')}|`,
      `| count | ${opNames.map((k) => sum((r) => r.ops[k] ?? 0)).join(' | ')} |`,
    ]);

    assert.deepEqual(failures, [], 'every worker finished and reported');
    for (const r of results) {
      assert.deepEqual(r.stuck, [], `worker ${r.id}: no operation hung (seed ${r.seed})`);
      assert.equal(r.completed, r.started, `worker ${r.id}: every operation started was completed`);
      assert.deepEqual(r.errors, [], `worker ${r.id}: no operation failed (seed ${r.seed})`);
      assert.deepEqual(r.mismatches, [], `worker ${r.id}: the mount matches the worker's model (seed ${r.seed})`);
    }
    assert.ok(total > WORKERS * 10, `operations ran (${total})`);
    assert.deepEqual(diff, [], 'the tree through the mount matches the brick');
    assert.ok(jsFops > total, `fops reached JS (${jsFops})`);
    assert.deepEqual(Object.entries(h).filter(([, n]) => n !== 0), [], `glujs counters after the run: ${healthLine(h)}`);
    assert.deepEqual(crashLines(log), []);
    assert.deepEqual(glujsErrors(log, 'pass'), []);
  });
}
