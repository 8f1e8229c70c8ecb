// `glujs install` / `glujs uninstall`: put the xlator where GlusterFS looks for
// `type features/glujs` (and `user/glujs`, for glusterd's brick-graph insertion), or take it away.
import fs from 'node:fs';
import path from 'node:path';
import { BUILT, builtFor, glusterVersion, xlatorDir } from '../paths';

const SLOTS = ['features/glujs.so', 'user/glujs.so'];

export function install(argv: string[]): number {
  const quiet = argv.includes('--quiet');
  if (!fs.existsSync(BUILT)) throw new Error(`${BUILT} is not built yet: run npx glujs setup (as root; in a checkout: bash scripts/setup.sh)`);
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
  return 0;
}

export function uninstall(): number {
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
  return 0;
}
