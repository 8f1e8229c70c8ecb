// Where glujs and GlusterFS keep their files (the package root, the built xlator,
// GlusterFS's xlator and filter directories, its version), and writing a file in place.
// Shared by the commands, the tests and scripts/test-asan.sh.
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';

/** The package root (this file is dist/lib/tools/paths.js). */
export const ROOT = path.resolve(__dirname, '..', '..', '..');
/** The built xlator: what `glujs install` links into GlusterFS's xlator directory. */
export const BUILT = path.join(ROOT, 'build', 'Release', 'glujs.node');
/** The glujs command, compiled: what the client-graph filter runs. */
export const CLI = path.join(ROOT, 'dist', 'lib', 'tools', 'cli.js');

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

/** Write `text` to `file` atomically (temp file + rename), keeping an existing file's mode. */
export function writeAtomic(file: string, text: string, mode?: number): void {
  let m = mode;
  if (m === undefined) { try { m = fs.statSync(file).mode & 0o7777; } catch { m = 0o644; } }
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.glujs-${process.pid}`);
  try {
    fs.writeFileSync(tmp, text, { mode: m });
    fs.chmodSync(tmp, m);
    fs.renameSync(tmp, file);
  } finally { fs.rmSync(tmp, { force: true }); }
}
