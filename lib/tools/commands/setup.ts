// `glujs setup`: the whole set-up of a fresh Debian 12 machine (as root) from
// the installed package: Debian's GlusterFS, the private libnode 18, the
// native build and the install of the xlator. It runs the package's own
// scripts/setup.sh, the same script a checkout's README commands run.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT } from '../paths';

export function setup(argv: string[]): number {
  if (argv.length) throw new Error(`glujs setup takes no arguments (got ${argv.join(' ')})`);
  const script = path.join(ROOT, 'scripts', 'setup.sh');
  if (!fs.existsSync(script)) throw new Error(`${script} is missing: this glujs package is incomplete (reinstall it)`);
  if (process.getuid?.() !== 0) throw new Error('glujs setup installs Debian packages and the xlator: run it as root');
  const r = spawnSync('bash', [script], { stdio: 'inherit' });
  if (r.error) throw r.error;
  return r.status ?? 1;
}
