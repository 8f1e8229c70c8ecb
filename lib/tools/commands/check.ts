// `glujs check <module>...`: load and type-check translator modules without
// GlusterFS. Reports the handlers found; unknown fop names (a misspelt
// handler never runs) and wrong handler signatures are errors.
import path from 'node:path';
import fs from 'node:fs';
import { FOPS, type FopName } from '../../gen/fops';
import { Translator } from '../../translator';
import { loadModule } from '../../daemon/loader';
import { UsageError } from '../args';
import { ROOT } from '../paths';

const HOOKS = new Set(['constructor', 'init', 'fini', 'notify', 'forget', 'release', 'releasedir', 'invalidate',
  'dump', 'handoff', 'adopt']);

export interface CheckResult {
  handlers: string[];
  hooks: string[];
  errors: string[];
  warnings: string[];
}

/** Edit distance, a swap of neighbours counting one (Damerau). */
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++) {
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  return d[a.length][b.length];
}

/** The fop a method name was probably meant to be, if it is close to one. */
export function nearFop(name: string): FopName | undefined {
  const norm = (s: string) => s.toLowerCase().replace(/_/g, '');
  for (const fop of Object.keys(FOPS) as FopName[]) {
    if (norm(fop) === norm(name)) return fop;
    const dd = distance(name.toLowerCase(), fop);
    if ((name.length >= 5 && dd <= 1) || (name.length >= 8 && dd <= 2)) return fop;
  }
  return undefined;
}

/** Where @types/node is: glujs's own node_modules in a checkout, the author's
 * project's (hoisted) when glujs is an installed dependency. */
function typesRoot(): string {
  try {
    return path.dirname(path.dirname(require.resolve('@types/node/package.json', { paths: [ROOT] })));
  } catch {
    return path.join(ROOT, 'node_modules', '@types');
  }
}

/** Type errors, with file:line:col, from the TypeScript compiler. */
function typeCheck(file: string): string[] {
  const ts = require('typescript') as typeof import('typescript');
  const root = ROOT;
  const options: import('typescript').CompilerOptions = {
    strict: true, noEmit: true, target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.CommonJS,
    moduleResolution: ts.ModuleResolutionKind.Node10, esModuleInterop: true, skipLibCheck: true,
    allowJs: true, checkJs: false, types: ['node'], typeRoots: [typesRoot()],
    baseUrl: root, paths: { glujs: ['dist/lib/index.d.ts'], 'glujs/*': ['dist/lib/*'] },
  };
  const program = ts.createProgram([file], options);
  return ts.getPreEmitDiagnostics(program)
    .filter((d) => d.category === ts.DiagnosticCategory.Error && (!d.file || path.resolve(d.file.fileName) === file))
    .map((d) => {
      const pos = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start) : undefined;
      return `${path.relative(process.cwd(), file)}${pos ? `:${pos.line + 1}:${pos.character + 1}` : ''}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n  ')}`;
    });
}

export function checkModule(moduleFile: string): CheckResult {
  const file = path.resolve(moduleFile);
  const r: CheckResult = { handlers: [], hooks: [], errors: [], warnings: [] };
  if (!fs.existsSync(file)) {
    r.errors.push(`${moduleFile}: no such file`);
    return r;
  }
  r.errors.push(...typeCheck(file));
  let Cls: unknown, exported: any;
  try {
    exported = loadModule(file);
    Cls = exported && (exported.default ?? exported);
  } catch (e) {
    r.errors.push(`cannot load: ${(e as Error).message}`);
    return r;
  }
  if (typeof Cls !== 'function' || !((Cls as typeof Translator).prototype instanceof Translator)) {
    const named = exported && typeof exported === 'object' && !('default' in exported) ? Object.keys(exported) : [];
    r.errors.push(named.length
      // a helper of a translator (examples/nlc-cache.ts for examples/nlc.ts): its type errors are above
      ? `not a translator module: no default export (it exports ${named.join(', ')}); a module a translator imports is checked with it: glujs check the translator`
      : 'the default export must be a class extending Translator from \'glujs\'');
    return r;
  }
  // every method on the class's prototype chain below Translator
  const names = new Set<string>();
  for (let p = (Cls as typeof Translator).prototype; p && p !== Translator.prototype; p = Object.getPrototypeOf(p))
    for (const n of Object.getOwnPropertyNames(p)) if (typeof Object.getOwnPropertyDescriptor(p, n)?.value === 'function') names.add(n);
  for (const n of [...names].sort()) {
    const fn = (Cls as any).prototype[n] as (...a: unknown[]) => unknown;
    if (Object.prototype.hasOwnProperty.call(FOPS, n)) {
      const fop = n as FopName;
      if (!FOPS[fop].js) r.errors.push(`${n}: this fop cannot have a JS handler (it carries values glujs passes through only)`);
      else if (fn.length > 1) r.errors.push(`${n}: a handler takes one parameter (op), this one takes ${fn.length}`);
      else r.handlers.push(n);
    } else if (HOOKS.has(n)) {
      if (n !== 'constructor') r.hooks.push(n);
    } else {
      const near = nearFop(n);
      if (near) r.errors.push(`${n}: not a fop; did you mean ${near}? (this method would never be called)`);
    }
  }
  if (!r.handlers.length) r.warnings.push('no fop handlers: every fop passes through in C');
  return r;
}

export function check(files: string[]): number {
  if (!files.length) throw new UsageError('glujs check: name at least one module');
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
