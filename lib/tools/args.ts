// Command-line arguments: the one parser every command uses, the checks of the values
// several commands take (--option, --module, --below/--above/--top), and UsageError.
import fs from 'node:fs';
import path from 'node:path';
import { positionFrom, type Position } from './volfile';

/** Bad input: printed without a stack, exit code 2. */
export class UsageError extends Error {
  constructor(message: string) { super(message); this.name = 'UsageError'; }
}

export interface Spec { flags?: string[]; values?: string[]; multi?: string[]; }
export interface Parsed { pos: string[]; flags: Set<string>; values: Map<string, string>; multi: Map<string, string[]>; }

export function parseArgs(argv: string[], spec: Spec, cmd: string): Parsed {
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
export function parseOptions(list: string[] | undefined, cmd: string): Array<[string, string]> {
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
export function moduleFile(p: string | undefined, cmd: string): string {
  if (!p) throw new UsageError(`${cmd}: --module PATH is required`);
  const abs = path.resolve(p);
  let st: fs.Stats;
  try { st = fs.statSync(abs); } catch { throw new UsageError(`${cmd}: module file ${abs} does not exist`); }
  if (!st.isFile()) throw new UsageError(`${cmd}: module ${abs} is not a file`);
  return abs;
}

/** --below VOL, --above VOL or --top, as a Position. */
export function positionArgs(p: Parsed, cmd: string, volname?: string): Position {
  try {
    return positionFrom({ below: p.values.get('below'), above: p.values.get('above'), top: p.flags.has('top'), volname });
  } catch (e) { throw new UsageError(`${cmd}: ${(e as Error).message}`); }
}
