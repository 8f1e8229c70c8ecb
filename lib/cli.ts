#!/usr/bin/env node
// glujs command line. `glujs install` / `glujs uninstall` put the xlator where
// GlusterFS looks for `type features/glujs` (and `user/glujs`, for glusterd's
// brick-graph insertion).
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';

const ROOT = path.resolve(__dirname, '..', '..');
const BUILT = path.join(ROOT, 'build', 'Release', 'glujs.node');
const SLOTS = ['features/glujs.so', 'user/glujs.so'];

/** GlusterFS's XLATORDIR for the installed version (`glusterfs --version`). */
export function xlatorDir(): string {
  const out = execFileSync('glusterfs', ['--version'], { encoding: 'utf8' });
  const version = /glusterfs (\d+\.\d+)/.exec(out)?.[1];
  if (!version) throw new Error(`cannot tell the GlusterFS version from: ${out.split('\n')[0]}`);
  for (const lib of ['/usr/lib/x86_64-linux-gnu', '/usr/lib64', '/usr/lib']) {
    const dir = path.join(lib, 'glusterfs', version, 'xlator');
    if (fs.existsSync(dir)) return dir;
  }
  throw new Error(`GlusterFS ${version} is installed but its xlator directory was not found`);
}

function install(quiet: boolean): void {
  if (!fs.existsSync(BUILT)) throw new Error(`${BUILT} is not built yet: run npm run build`);
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

function main(argv: string[]): number {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case 'install': install(rest.includes('--quiet')); return 0;
    case 'uninstall': uninstall(); return 0;
    default:
      console.error('usage: glujs install [--quiet] | glujs uninstall');
      return 2;
  }
}

if (require.main === module) {
  try {
    process.exitCode = main(process.argv.slice(2));
  } catch (e) {
    console.error(`glujs: ${(e as Error).message}`);
    process.exitCode = 1;
  }
}
