#!/usr/bin/env node
// glujs command line.
//   glujs install / uninstall     put the xlator where GlusterFS looks for `type features/glujs`
//                                 (and `user/glujs`, for glusterd's brick-graph insertion)
//   glujs volfile ...             splice a features/glujs xlator into a volfile
//   glujs filter install|uninstall|list
//                                 keep glujs in the FUSE client graphs glusterd generates
//   glujs filter-run VOLFILE      what the installed filter runs (glusterd calls it)
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { execFileSync, spawnSync } from 'node:child_process';
import { Volfile, VolfileError, positionFrom, describePosition, type Position } from './volfile';
import { loadModule } from '../runtime';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const BUILT = path.join(ROOT, 'build', 'Release', 'glujs.node');
const SLOTS = ['features/glujs.so', 'user/glujs.so'];

/** GlusterFS's XLATORDIR for the installed version (`glusterfs --version`). */
export function xlatorDir(): string {
  const version = glusterVersion().split('.').slice(0, 2).join('.');
  for (const lib of ['/usr/lib/x86_64-linux-gnu', '/usr/lib64', '/usr/lib']) {
    const dir = path.join(lib, 'glusterfs', version, 'xlator');
    if (fs.existsSync(dir)) return dir;
  }
  throw new Error(`GlusterFS ${version} is installed but its xlator directory was not found`);
}

/** glusterd's FILTERDIR: the `filter` sibling of the xlator directory. glusterd runs every
 * executable file there with the path of each volfile it has just written. */
export function filterDir(): string { return path.join(path.dirname(xlatorDir()), 'filter'); }

/** The GlusterFS version glujs.node was built against (a marker string in the binary). */
export function builtFor(so = BUILT): string | undefined {
  const m = /GLUJS_BUILT_FOR_GLUSTERFS=([0-9.]+)/.exec(fs.readFileSync(so).toString('latin1'));
  return m?.[1];
}

/** The installed GlusterFS's version (`glusterfs --version`). */
export function glusterVersion(): string {
  const out = execFileSync('glusterfs', ['--version'], { encoding: 'utf8' });
  const v = /glusterfs (\d+\.\d+(?:\.\d+)?)/.exec(out)?.[1];
  if (!v) throw new Error(`cannot tell the GlusterFS version from: ${out.split('\n')[0]}`);
  return v;
}

function install(quiet: boolean): void {
  if (!fs.existsSync(BUILT)) throw new Error(`${BUILT} is not built yet: run npm run build`);
  // struct layouts and fop signatures come from the headers it was built with
  const built = builtFor(), running = glusterVersion();
  if (built !== running)
    throw new Error(`glujs was built for GlusterFS ${built ?? '(unknown)'} but GlusterFS ${running} is installed: ` +
      'rebuild it against the installed headers (bash scripts/setup.sh, or npm run build) and install again');
  const dir = xlatorDir();
  for (const slot of SLOTS) {
    const dest = path.join(dir, slot);
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    let current: string | undefined;
    try { current = fs.readlinkSync(dest); } catch { /* absent or not a link */ }
    if (current === BUILT) continue;
    fs.rmSync(dest, { force: true });
    fs.symlinkSync(BUILT, dest);
    if (!quiet) console.log(`installed ${dest} -> ${BUILT}`);
  }
  if (!quiet) console.log('glujs is installed: use `type features/glujs` in a volfile');
}

function uninstall(): void {
  const dir = xlatorDir();
  for (const slot of SLOTS) {
    const dest = path.join(dir, slot);
    let current: string | undefined;
    try { current = fs.readlinkSync(dest); } catch { continue; }
    if (current.endsWith(path.join('build', 'Release', 'glujs.node'))) {
      fs.rmSync(dest);
      console.log(`removed ${dest}`);
    }
  }
}

// ---------------------------------------------------------------------------------------
// argument parsing

/** Bad input: printed without a stack, exit code 2. */
export class UsageError extends Error {
  constructor(message: string) { super(message); this.name = 'UsageError'; }
}

interface Spec { flags?: string[]; values?: string[]; multi?: string[]; }
interface Parsed { pos: string[]; flags: Set<string>; values: Map<string, string>; multi: Map<string, string[]>; }

function parseArgs(argv: string[], spec: Spec, cmd: string): Parsed {
  const out: Parsed = { pos: [], flags: new Set(), values: new Map(), multi: new Map() };
  const alias: Record<string, string> = { '-o': '--output' };
  for (let i = 0; i < argv.length; i++) {
    let a = argv[i];
    if (a === '-' || !a.startsWith('-')) { out.pos.push(a); continue; }
    if (a === '--') { out.pos.push(...argv.slice(i + 1)); break; }
    let inline: string | undefined;
    const eq = a.indexOf('=');
    if (a.startsWith('--') && eq > 0) { inline = a.slice(eq + 1); a = a.slice(0, eq); }
    a = alias[a] ?? a;
    const name = a.replace(/^--/, '');
    if (spec.flags?.includes(name)) {
      if (inline !== undefined) throw new UsageError(`${cmd}: --${name} takes no value`);
      out.flags.add(name);
    } else if (spec.values?.includes(name) || spec.multi?.includes(name)) {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new UsageError(`${cmd}: --${name} needs a value`);
      if (spec.multi?.includes(name)) out.multi.set(name, [...(out.multi.get(name) ?? []), v]);
      else {
        if (out.values.has(name)) throw new UsageError(`${cmd}: --${name} given twice`);
        out.values.set(name, v);
      }
    } else {
      throw new UsageError(`${cmd}: unknown option ${argv[i]}`);
    }
  }
  return out;
}

/** `--option k=v` pairs, in order; `module` is refused (it has its own flag). */
function parseOptions(list: string[] | undefined, cmd: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const kv of list ?? []) {
    const eq = kv.indexOf('=');
    if (eq <= 0) throw new UsageError(`${cmd}: --option wants key=value, got ${JSON.stringify(kv)}`);
    const k = kv.slice(0, eq), v = kv.slice(eq + 1);
    if (/[\s"\\#]/.test(k)) throw new UsageError(`${cmd}: invalid option name ${JSON.stringify(k)}`);
    if (k === 'module') throw new UsageError(`${cmd}: give the module with --module, not --option module=...`);
    if (/\n/.test(v)) throw new UsageError(`${cmd}: option ${k}: a value cannot contain a newline`);
    out.push([k, v]);
  }
  return out;
}

/** An existing module file, as an absolute path. */
function moduleFile(p: string | undefined, cmd: string): string {
  if (!p) throw new UsageError(`${cmd}: --module PATH is required`);
  const abs = path.resolve(p);
  let st: fs.Stats;
  try { st = fs.statSync(abs); } catch { throw new UsageError(`${cmd}: module file ${abs} does not exist`); }
  if (!st.isFile()) throw new UsageError(`${cmd}: module ${abs} is not a file`);
  return abs;
}

/** Write `text` to `file` atomically (temp file + rename), keeping an existing file's mode. */
function writeAtomic(file: string, text: string, mode?: number): void {
  let m = mode;
  if (m === undefined) { try { m = fs.statSync(file).mode & 0o7777; } catch { m = 0o644; } }
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.glujs-${process.pid}`);
  try {
    fs.writeFileSync(tmp, text, { mode: m });
    fs.chmodSync(tmp, m);
    fs.renameSync(tmp, file);
  } finally { fs.rmSync(tmp, { force: true }); }
}

// ---------------------------------------------------------------------------------------
// talking to glusterd (through the gluster CLI)

interface Glusterd { sock?: string; server?: string; }

/** Run the gluster CLI in script mode. Never throws; code null = could not run. */
function gluster(gd: Glusterd, args: string[], timeoutMs = 60000): { code: number | null; out: string; err: string } {
  const pre = ['--mode=script'];
  if (gd.server) pre.push(`--remote-host=${gd.server}`);
  else if (gd.sock) pre.push(`--glusterd-sock=${gd.sock}`);
  if (process.env.GLUJS_GLUSTER_LOG) pre.push(`--log-file=${process.env.GLUJS_GLUSTER_LOG}`);
  const r = spawnSync('gluster', [...pre, ...args], { encoding: 'utf8', timeout: timeoutMs });
  return { code: r.error ? null : r.status, out: r.stdout ?? '', err: (r.stderr ?? '') + (r.error ? String(r.error.message) : '') };
}
const reachable = (gd: Glusterd) => gluster(gd, ['system::', 'getwd'], 15000).code === 0;
const cliMessage = (r: { out: string; err: string }) => (r.err.trim() || r.out.trim()).split('\n').slice(0, 3).join(' ');

function glusterdFrom(p: Parsed): Glusterd {
  return { sock: p.values.get('glusterd-sock') ?? process.env.GLUJS_GLUSTERD_SOCK, server: p.values.get('server') };
}

/** `gluster system:: getspec V`: the volfile glusterd hands a (trusted) client. */
function getspec(gd: Glusterd, volname: string): string {
  const r = gluster(gd, ['system::', 'getspec', volname]);
  if (r.code === 0 && /\bvolume\b/.test(r.out)) return r.out.replace(/\n\n$/, '\n');
  if (/Connection failed|daemon is operational/i.test(r.out + r.err) || r.code === null) {
    throw new Error(`cannot reach glusterd${gd.server ? ` on ${gd.server}` : ''}: ${cliMessage(r)}`);
  }
  const info = gluster(gd, ['volume', 'info', volname]);
  if (info.code !== 0 && /does not exist/i.test(info.out + info.err)) throw new UsageError(`glusterd has no volume '${volname}'`);
  throw new Error(`gluster system:: getspec ${volname} failed (exit ${r.code}): ${cliMessage(r) || 'no output'}`);
}

// ---------------------------------------------------------------------------------------
// glujs volfile

function positionArgs(p: Parsed, cmd: string, volname?: string): Position {
  try {
    return positionFrom({ below: p.values.get('below'), above: p.values.get('above'), top: p.flags.has('top'), volname });
  } catch (e) { throw new UsageError(`${cmd}: ${(e as Error).message}`); }
}

function readInput(file: string | undefined): { text: string; source: string } {
  if (file === undefined || file === '-') return { text: fs.readFileSync(0, 'utf8'), source: '<stdin>' };
  try { return { text: fs.readFileSync(file, 'utf8'), source: file }; } catch (e) {
    throw new UsageError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/** The name glusterd would give it: `<volume>-glujs`, or `glujs` when the volume is unknown. */
function defaultName(vf: Volfile, volname?: string): string {
  const v = volname ?? (vf.top.type === 'debug/io-stats' ? vf.top.name : undefined);
  return v ? `${v}-glujs` : 'glujs';
}

function cmdVolfile(argv: string[]): number {
  const cmd = 'glujs volfile';
  const p = parseArgs(argv, { flags: ['top', 'help'], values: ['getspec', 'server', 'glusterd-sock', 'module', 'name', 'below', 'above', 'output'], multi: ['option'] }, cmd);
  if (p.flags.has('help')) { console.log(USAGE); return 0; }
  if (p.pos.length > 1) throw new UsageError(`${cmd}: one input at most (a file, or - for stdin), got ${p.pos.join(' ')}`);
  const volname = p.values.get('getspec');
  if (volname !== undefined && p.pos.length) throw new UsageError(`${cmd}: give either a file or --getspec, not both`);
  if (p.values.has('server') && volname === undefined) throw new UsageError(`${cmd}: --server goes with --getspec`);
  const module = moduleFile(p.values.get('module'), cmd);
  const options = parseOptions(p.multi.get('option'), cmd);
  const pos = positionArgs(p, cmd, volname);
  const input = volname !== undefined
    ? { text: getspec(glusterdFrom(p), volname), source: `getspec ${volname}` }
    : readInput(p.pos[0]);
  let vf: Volfile;
  try { vf = Volfile.parse(input.text, input.source); } catch (e) {
    if (e instanceof VolfileError) throw new UsageError(`cannot parse ${input.source}: ${e.message}`);
    throw e;
  }
  const name = p.values.get('name') ?? defaultName(vf, volname);
  let out: Volfile;
  try {
    out = vf.insert({ name, type: 'features/glujs', options: [['module', module], ...options] }, pos);
  } catch (e) {
    if (e instanceof VolfileError) throw new UsageError(`${cmd}: ${e.message}`);
    throw e;
  }
  const dest = p.values.get('output');
  if (dest && dest !== '-') {
    // a trusted volfile (getspec) carries the volume's credentials: keep it private like glusterd does
    const secret = out.volumes.some((v) => v.options.some((o) => o.key === 'password'));
    writeAtomic(dest, out.toString(), fs.existsSync(dest) ? undefined : secret ? 0o600 : 0o644);
    const child = out.need(name).subvolumes[0];
    const parents = out.parentsOf(name).map((v) => v.name);
    console.error(`glujs: wrote ${dest}: ${parents.length ? parents.join(', ') : '(top)'} -> ${name} -> ${child}`);
  } else {
    process.stdout.write(out.toString());
  }
  return 0;
}

// ---------------------------------------------------------------------------------------
// glujs filter: client graphs generated by glusterd

const DEFAULT_WORKDIR = '/var/lib/glusterd';
const MARKER = '# glujs client-graph filter';

/** What `filter install` records for one volume. */
interface FilterEntry {
  module: string;
  name: string;
  options: Array<[string, string]>;
  position: Position;
  /** the xlator type spliced in (default features/glujs; `npm run test:asan` uses features/glujs-asan) */
  type?: string;
  /** the module declares `static requires = { upcall: true }`: the filter adds `upcall-bricks on|off` */
  upcall?: boolean;
}
interface FilterConfig { glusterdDir: string; volumes: Record<string, FilterEntry>; }

/** Per glusterd working directory: the filter script's name, its config and its log. */
interface FilterPaths { workdir: string; script: string; config: string; log: string; }

function filterPaths(workdir: string): FilterPaths {
  const wd = path.resolve(workdir);
  const std = wd === DEFAULT_WORKDIR;
  const tag = std ? 'glujs' : `glujs-${crypto.createHash('sha1').update(wd).digest('hex').slice(0, 10)}`;
  return {
    workdir: wd,
    script: path.join(filterDir(), tag),
    config: process.env.GLUJS_FILTER_CONFIG ?? (std ? '/etc/glusterfs/glujs-filter.json' : path.join(wd, 'glujs-filter.json')),
    log: std ? '/var/log/glusterfs/glujs-filter.log' : path.join(wd, 'glujs-filter.log'),
  };
}

/** glusterd's working directory: --glusterd-dir, or asked from glusterd, or the default. */
function workdirOf(p: Parsed, gd: Glusterd): string {
  const explicit = p.values.get('glusterd-dir') ?? process.env.GLUJS_GLUSTERD_DIR;
  if (explicit) return path.resolve(explicit);
  const r = gluster(gd, ['system::', 'getwd'], 15000);
  const wd = r.code === 0 ? r.out.trim().split('\n').pop()!.trim() : '';
  return wd.startsWith('/') ? wd : DEFAULT_WORKDIR;
}

function readConfig(file: string, workdir: string): FilterConfig {
  let text: string;
  try { text = fs.readFileSync(file, 'utf8'); } catch { return { glusterdDir: workdir, volumes: {} }; }
  const c = JSON.parse(text) as FilterConfig;
  if (!c || typeof c !== 'object' || typeof c.volumes !== 'object') throw new Error(`${file} is not a glujs filter config`);
  return c;
}

const shq = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

function filterScript(fp: FilterPaths, volumes: string[]): string {
  // only this glusterd's FUSE volfiles of the configured volumes start node (~0.1 s each)
  const patterns = volumes.sort().map((v) => `${shq(fp.workdir)}/vols/${shq(v)}/*-fuse.vol`).join(' | ');
  return [
    '#!/bin/sh',
    `${MARKER} (installed by \`glujs filter install\`, removed by \`glujs filter uninstall\`).`,
    '# glusterd runs every executable in this directory with the path of each volfile it writes;',
    '# this one splices features/glujs into the FUSE client volfiles of the volumes in the config.',
    `# glusterd-dir: ${fp.workdir}`,
    `# config: ${fp.config}`,
    `# log: ${fp.log}`,
    'case "$1" in',
    `  ${patterns})`,
    `    exec ${shq(process.execPath)} ${shq(path.join(ROOT, 'dist', 'lib', 'tools', 'cli.js'))} filter-run --config ${shq(fp.config)} "$1" 2>>${shq(fp.log)} ;;`,
    'esac',
    'exit 0',
    '',
  ].join('\n');
}

/** FUSE client volfiles glusterd writes for volume V: `V.tcp-fuse.vol` and `trusted-V.tcp-fuse.vol`
 * (rdma: `.rdma-fuse.vol`). The thin-client `*.tcp-gfproxy-fuse.vol` is left alone. */
function fuseVolfileOf(file: string): string | undefined {
  const base = path.basename(file), volname = path.basename(path.dirname(file));
  const m = /^(?:trusted-)?(.+)\.(?:tcp|rdma)-fuse\.vol$/.exec(base);
  return m && m[1] === volname ? volname : undefined;
}

/** Splice one configured volume's glujs into volfile text. Idempotent: an xlator of the
 * same name and type already there is cut out first. */
export function applyFilter(text: string, source: string, volname: string, e: FilterEntry, bricksUpcall?: 'on' | 'off'): string {
  let vf = Volfile.parse(text, source);
  const old = vf.get(e.name), type = e.type ?? 'features/glujs';
  if (old) {
    if (old.type !== 'features/glujs' && old.type !== type) throw new VolfileError(`${source} already has a volume '${e.name}' of type ${old.type}`);
    vf = vf.remove(e.name);
  }
  const pos = 'default' in e.position ? { default: true as const, volname } : e.position;
  const upcall: Array<[string, string]> = e.upcall && bricksUpcall ? [['upcall-bricks', bricksUpcall]] : [];
  return vf.insert({ name: e.name, type, options: [['module', e.module], ...e.options, ...upcall] }, pos).toString();
}

/** Whether every brick of the volume whose volfiles are in `volDir` sends cache
 * invalidations (features/upcall with cache-invalidation on); undefined when no
 * brick volfile is there. */
export function bricksUpcall(volDir: string): 'on' | 'off' | undefined {
  let bricks = 0, on = 0;
  for (const f of fs.existsSync(volDir) ? fs.readdirSync(volDir) : []) {
    if (!f.endsWith('.vol') || /-fuse\.vol$/.test(f)) continue;
    let vf: Volfile;
    try { vf = Volfile.parse(fs.readFileSync(path.join(volDir, f), 'utf8'), f); } catch { continue; }
    if (!vf.volumes.some((v) => v.type === 'storage/posix')) continue; // a brick (not gfproxyd, not a client)
    bricks++;
    const up = vf.volumes.find((v) => v.type === 'features/upcall');
    const ci = up?.options.filter((o) => o.key === 'cache-invalidation').pop()?.value ?? 'off';
    if (/^(on|yes|true|enable|1)$/i.test(ci)) on++;
  }
  return bricks === 0 ? undefined : on === bricks ? 'on' : 'off';
}

/** Does the module declare `static requires = { upcall: true }`? (loads it in this process) */
function moduleNeedsUpcall(module: string): boolean {
  const exported = loadModule(module);
  const Cls = exported && (exported.default ?? exported);
  return !!(Cls && typeof Cls === 'function' && Cls.requires?.upcall);
}

function cmdFilterRun(argv: string[]): number {
  const p = parseArgs(argv, { values: ['config'] }, 'glujs filter-run');
  const file = p.pos[0];
  if (!file || p.pos.length !== 1) throw new UsageError('usage: glujs filter-run [--config FILE] VOLFILE');
  const volname = fuseVolfileOf(file);
  if (!volname) return 0;
  const configFile = p.values.get('config') ?? process.env.GLUJS_FILTER_CONFIG ?? '/etc/glusterfs/glujs-filter.json';
  const workdir = path.dirname(path.dirname(path.dirname(path.resolve(file))));
  const config = readConfig(configFile, workdir);
  if (config.glusterdDir && path.resolve(config.glusterdDir) !== workdir) return 0;
  const e = config.volumes[volname];
  if (!e) return 0;
  const stamp = new Date().toISOString();
  if (!fs.existsSync(e.module)) {
    console.error(`${stamp} glujs filter: ${file}: module ${e.module} does not exist; volfile left without glujs`);
    return 1;
  }
  const text = fs.readFileSync(file, 'utf8');
  const out = applyFilter(text, file, volname, e, bricksUpcall(path.dirname(path.resolve(file))));
  if (out !== text) writeAtomic(file, out);
  console.error(`${stamp} glujs filter: ${file}: ${e.name} (${e.module}) ${describePosition('default' in e.position ? { default: true, volname } : e.position)}`);
  return 0;
}

/** Make glusterd rewrite (and re-filter) the volfiles of `volname` and notify its clients,
 * without changing any option: re-set diagnostics.client-log-level to its current value
 * (and reset it again if it was not set before). Returns a description of what ran. */
export function regenerate(gd: Glusterd, volname: string): string {
  const KEY = 'diagnostics.client-log-level';
  const get = gluster(gd, ['volume', 'get', volname, KEY, '--xml']);
  const value = /<Value>([^<]*)<\/Value>/.exec(get.out)?.[1];
  if (get.code !== 0 || !value) throw new Error(`gluster volume get ${volname} ${KEY} failed: ${cliMessage(get)}`);
  const info = gluster(gd, ['volume', 'info', volname, '--xml']);
  const wasSet = new RegExp(`<name>${KEY.replace(/\./g, '\\.')}</name>`).test(info.out);
  const set = gluster(gd, ['volume', 'set', volname, KEY, value]);
  if (set.code !== 0) throw new Error(`gluster volume set ${volname} ${KEY} ${value} failed: ${cliMessage(set)}`);
  let done = `gluster volume set ${volname} ${KEY} ${value}`;
  if (!wasSet) {
    const reset = gluster(gd, ['volume', 'reset', volname, KEY]);
    if (reset.code !== 0) throw new Error(`gluster volume reset ${volname} ${KEY} failed: ${cliMessage(reset)}`);
    done += ` && gluster volume reset ${volname} ${KEY}`;
  }
  return done;
}

function cmdFilterInstall(argv: string[]): number {
  const cmd = 'glujs filter install';
  const p = parseArgs(argv, { flags: ['top', 'no-regenerate', 'enable-upcall'], values: ['volume', 'module', 'name', 'type', 'below', 'above', 'glusterd-dir', 'glusterd-sock'], multi: ['option'] }, cmd);
  if (p.pos.length) throw new UsageError(`${cmd}: unexpected argument ${p.pos[0]}`);
  const volname = p.values.get('volume');
  if (!volname) throw new UsageError(`${cmd}: --volume V is required`);
  if (!/^[A-Za-z0-9_.-]+$/.test(volname)) throw new UsageError(`${cmd}: ${JSON.stringify(volname)} is not a volume name`);
  const module = moduleFile(p.values.get('module'), cmd);
  const options = parseOptions(p.multi.get('option'), cmd);
  const position = positionArgs(p, cmd);
  const name = p.values.get('name') ?? `${volname}-glujs`;
  if (/[\s"\\#]/.test(name)) throw new UsageError(`${cmd}: invalid --name ${JSON.stringify(name)}`);
  const type = p.values.get('type');
  if (type !== undefined && (!/^[a-z]+\/[\w.-]+$/.test(type) || !fs.existsSync(path.join(xlatorDir(), `${type}.so`))))
    throw new UsageError(`${cmd}: --type ${JSON.stringify(type)}: no such xlator in ${xlatorDir()}`);
  const gd = glusterdFrom(p);
  const up = reachable(gd);
  const fp = filterPaths(workdirOf(p, gd));
  if (up) {
    const info = gluster(gd, ['volume', 'info', volname]);
    if (info.code !== 0) throw new UsageError(`${cmd}: glusterd has no volume '${volname}' (${cliMessage(info)})`);
  } else if (!fs.existsSync(path.join(fp.workdir, 'vols', volname))) {
    console.error(`glujs: warning: glusterd is not reachable and ${fp.workdir}/vols/${volname} does not exist; installing anyway`);
  }
  // check now that the current volfiles take the insertion, rather than in glusterd's filter run
  const volDir = path.join(fp.workdir, 'vols', volname);
  let upcall = false;
  try { upcall = moduleNeedsUpcall(module); } catch (e) {
    console.error(`glujs: warning: cannot load ${module} to read its requirements: ${(e as Error).message}`);
  }
  const entry: FilterEntry = { module, name, options, position, ...(type ? { type } : {}), ...(upcall ? { upcall } : {}) };
  if (upcall && up) {
    const KEY = 'features.cache-invalidation';
    const get = gluster(gd, ['volume', 'get', volname, KEY, '--xml']);
    const value = /<Value>([^<]*)<\/Value>/.exec(get.out)?.[1] ?? 'unknown';
    if (!/^(on|yes|true|enable|1)$/i.test(value)) {
      if (p.flags.has('enable-upcall')) {
        for (const [k, v] of [[KEY, 'on'], ['features.cache-invalidation-timeout', '600']]) {
          const set = gluster(gd, ['volume', 'set', volname, k, v]);
          if (set.code !== 0) throw new Error(`gluster volume set ${volname} ${k} ${v} failed: ${cliMessage(set)}`);
          console.log(`glujs: gluster volume set ${volname} ${k} ${v} (--enable-upcall: ${path.basename(module)} relies on upcall)`);
        }
      } else {
        console.error(`glujs: warning: ${path.basename(module)} relies on upcall, but ${KEY} is ${value} on ${volname}: ` +
          'changes made by other clients are seen only when its entries expire. ' +
          `Run: gluster volume set ${volname} ${KEY} on (or install with --enable-upcall)`);
      }
    }
  }
  for (const f of fs.existsSync(volDir) ? fs.readdirSync(volDir) : []) {
    const file = path.join(volDir, f);
    if (fuseVolfileOf(file) !== volname) continue;
    try { applyFilter(fs.readFileSync(file, 'utf8'), file, volname, entry); } catch (e) {
      if (e instanceof VolfileError) throw new UsageError(`${cmd}: ${e.message}`);
      throw e;
    }
  }
  const config = readConfig(fp.config, fp.workdir);
  config.glusterdDir = fp.workdir;
  config.volumes[volname] = entry;
  fs.mkdirSync(path.dirname(fp.config), { recursive: true });
  writeAtomic(fp.config, JSON.stringify(config, null, 2) + '\n', 0o644);
  fs.mkdirSync(path.dirname(fp.script), { recursive: true });
  writeAtomic(fp.script, filterScript(fp, Object.keys(config.volumes)), 0o755);
  console.log(`glujs: filter ${fp.script} installed for volume ${volname}: ${name} (${module}) ${describePosition('default' in position ? { default: true, volname } : position)}`);
  console.log(`glujs: config ${fp.config}, log ${fp.log}`);
  if (p.flags.has('no-regenerate')) {
    console.log(`glujs: volfiles not regenerated (--no-regenerate): mounts pick glujs up at the next volfile change of ${volname}`);
  } else if (!up) {
    console.log(`glujs: glusterd not reachable: volfiles not regenerated; mounts pick glujs up at the next volfile change of ${volname}`);
  } else {
    console.log(`glujs: regenerated the volfiles: ${regenerate(gd, volname)}`);
  }
  return 0;
}

function cmdFilterUninstall(argv: string[]): number {
  const cmd = 'glujs filter uninstall';
  const p = parseArgs(argv, { flags: ['no-regenerate'], values: ['volume', 'glusterd-dir', 'glusterd-sock'] }, cmd);
  if (p.pos.length) throw new UsageError(`${cmd}: unexpected argument ${p.pos[0]}`);
  const gd = glusterdFrom(p);
  const fp = filterPaths(workdirOf(p, gd));
  const config = readConfig(fp.config, fp.workdir);
  const volname = p.values.get('volume');
  if (volname !== undefined && !config.volumes[volname]) {
    console.log(`glujs: no filter entry for volume ${volname} in ${fp.config}`);
  }
  const removed = volname !== undefined ? (config.volumes[volname] ? [volname] : []) : Object.keys(config.volumes);
  for (const v of removed) delete config.volumes[v];
  let script = '';
  try { script = fs.readFileSync(fp.script, 'utf8'); } catch { /* absent */ }
  if (Object.keys(config.volumes).length) {
    writeAtomic(fp.config, JSON.stringify(config, null, 2) + '\n', 0o644);
    if (script.includes(MARKER)) writeAtomic(fp.script, filterScript(fp, Object.keys(config.volumes)), 0o755);
  } else {
    fs.rmSync(fp.config, { force: true });
    if (script.includes(MARKER)) { fs.rmSync(fp.script, { force: true }); console.log(`glujs: removed ${fp.script}`); }
    try { fs.rmdirSync(path.dirname(fp.script)); } catch { /* not empty: other filters */ }
  }
  for (const v of removed) console.log(`glujs: volume ${v} no longer filtered`);
  if (removed.length && !p.flags.has('no-regenerate')) {
    if (!reachable(gd)) console.log('glujs: glusterd not reachable: volfiles not regenerated');
    else for (const v of removed) {
      if (gluster(gd, ['volume', 'info', v]).code !== 0) { console.log(`glujs: volume ${v} is gone; nothing to regenerate`); continue; }
      console.log(`glujs: regenerated the volfiles: ${regenerate(gd, v)}`);
    }
  }
  return 0;
}

function cmdFilterList(argv: string[]): number {
  parseArgs(argv, {}, 'glujs filter list');
  const dir = filterDir();
  let n = 0;
  for (const f of fs.existsSync(dir) ? fs.readdirSync(dir).sort() : []) {
    const file = path.join(dir, f);
    let text = '';
    try { text = fs.readFileSync(file, 'utf8'); } catch { continue; }
    if (!text.includes(MARKER)) continue;
    n++;
    const wd = /^# glusterd-dir: (.*)$/m.exec(text)?.[1] ?? '?';
    const conf = /^# config: (.*)$/m.exec(text)?.[1] ?? '?';
    console.log(`${file}  glusterd-dir ${wd}  config ${conf}`);
    let c: FilterConfig | undefined;
    try { c = readConfig(conf, wd); } catch (e) { console.log(`  (config unreadable: ${(e as Error).message})`); }
    for (const [v, e] of Object.entries(c?.volumes ?? {})) {
      const opts = e.options.map(([k, x]) => ` ${k}=${x}`).join('');
      console.log(`  ${v}: ${e.name} module ${e.module}${opts} ${describePosition('default' in e.position ? { default: true, volname: v } : e.position)}`);
    }
  }
  if (!n) console.log(`no glujs filter in ${dir}`);
  return 0;
}

// ---------------------------------------------------------------------------------------

const USAGE = `usage:
  glujs install [--quiet] | glujs uninstall
  glujs check MODULE...          load and type-check translator modules without GlusterFS
  glujs dev MODULE [--option key=value ...]
                                 a throwaway volume with MODULE, its log, reload on change
  glujs volfile [FILE|-] [--getspec VOLNAME [--server HOST] [--glusterd-sock FILE]]
                --module PATH [--name NAME] [--option key=value ...]
                [--below VOL | --above VOL | --top] [-o OUT]
  glujs filter install --volume V --module PATH [--option key=value ...] [--name NAME]
                [--below VOL | --above VOL | --top] [--no-regenerate] [--type XLATOR-TYPE]
                [--enable-upcall]   (a module with static requires = { upcall: true }: set features.cache-invalidation on)
                [--glusterd-dir DIR] [--glusterd-sock FILE]
  glujs filter uninstall [--volume V] [--no-regenerate] [--glusterd-dir DIR] [--glusterd-sock FILE]
  glujs filter list`;

function cmdCheck(files: string[]): number {
  if (!files.length) throw new UsageError('glujs check: name at least one module');
  const { checkModule } = require('./check') as typeof import('./check');
  let bad = 0;
  for (const f of files) {
    const r = checkModule(f);
    console.log(`${f}: ${r.errors.length ? 'ERRORS' : 'ok'}`);
    console.log(`  handlers: ${r.handlers.join(', ') || '(none)'}`);
    if (r.hooks.length) console.log(`  hooks: ${r.hooks.join(', ')}`);
    for (const w of r.warnings) console.log(`  warning: ${w}`);
    for (const e of r.errors) console.log(`  error: ${e.replace(/\n/g, '\n    ')}`);
    if (r.errors.length) bad++;
  }
  return bad ? 1 : 0;
}

async function cmdDev(args: string[]): Promise<number> {
  const [module, ...rest] = args;
  if (!module) throw new UsageError('glujs dev: name a module');
  const options: Record<string, string> = {};
  for (let i = 0; i < rest.length; i++) {
    if (rest[i] !== '--option' || !rest[i + 1]?.includes('=')) throw new UsageError(`glujs dev: unexpected ${rest[i]}`);
    const [k, ...v] = rest[++i].split('=');
    options[k] = v.join('=');
  }
  const { runDev } = require('./dev') as typeof import('./dev');
  await runDev(module, options);
  return 0;
}

export function main(argv: string[]): number | Promise<number> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case 'check': return cmdCheck(rest);
    case 'dev': return cmdDev(rest);
    case 'install': install(rest.includes('--quiet')); return 0;
    case 'uninstall': uninstall(); return 0;
    case 'volfile': return cmdVolfile(rest);
    case 'filter-run': return cmdFilterRun(rest);
    case 'filter': {
      const [sub, ...args] = rest;
      if (sub === 'install') return cmdFilterInstall(args);
      if (sub === 'uninstall') return cmdFilterUninstall(args);
      if (sub === 'list') return cmdFilterList(args);
      throw new UsageError(`glujs filter: install, uninstall or list expected${sub ? `, got ${sub}` : ''}`);
    }
    case 'help': case '--help': case '-h': console.log(USAGE); return 0;
    default:
      console.error(USAGE);
      return 2;
  }
}

if (require.main === module) {
  const fail = (e: unknown) => {
    const msg = (e as Error).message;
    console.error(msg.startsWith('glujs') ? msg : `glujs: ${msg}`);
    process.exitCode = e instanceof UsageError || e instanceof VolfileError ? 2 : 1;
  };
  try {
    Promise.resolve(main(process.argv.slice(2))).then((code) => { process.exitCode = code; }, fail);
  } catch (e) {
    fail(e);
  }
}
