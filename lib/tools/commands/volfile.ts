// `glujs volfile`: splice a features/glujs xlator into a volfile (a file, stdin, or
// the one glusterd hands a client: --getspec).
import fs from 'node:fs';
import { moduleFile, parseArgs, parseOptions, positionArgs, UsageError } from '../args';
import { getspec, glusterdFrom } from '../gluster';
import { writeAtomic } from '../paths';
import { Volfile, VolfileError } from '../volfile';

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

/** `glujs volfile ARGS`; --help prints `usage` (the whole command line's). */
export function volfile(argv: string[], usage: string): number {
  const cmd = 'glujs volfile';
  const p = parseArgs(argv, { flags: ['top', 'help'], values: ['getspec', 'server', 'glusterd-sock', 'module', 'name', 'below', 'above', 'output'], multi: ['option'] }, cmd);
  if (p.flags.has('help')) { console.log(usage); return 0; }
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
