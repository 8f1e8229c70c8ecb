// `glujs filter install|uninstall|list`: keep glujs in the FUSE client graphs glusterd
// generates, through a script in glusterd's filter directory; and `glujs filter-run
// VOLFILE`, what that script runs (glusterd calls it with each volfile it writes).
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { loadModule } from '../../daemon/loader';
import { moduleFile, parseArgs, parseOptions, positionArgs, UsageError, type Parsed } from '../args';
import { cliMessage, gluster, glusterdFrom, reachable, regenerate, type GlusterdTarget } from '../gluster';
import { CLI, filterDir, writeAtomic, xlatorDir } from '../paths';
import { Volfile, VolfileError, describePosition, type Position } from '../volfile';

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
function workdirOf(p: Parsed, gd: GlusterdTarget): string {
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
    `    exec ${shq(process.execPath)} ${shq(CLI)} filter-run --config ${shq(fp.config)} "$1" 2>>${shq(fp.log)} ;;`,
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

export function filterRun(argv: string[]): number {
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

export function filterInstall(argv: string[]): number {
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

export function filterUninstall(argv: string[]): number {
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

export function filterList(argv: string[]): number {
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
