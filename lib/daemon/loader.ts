// Loading the translator module: TypeScript transpiled (with a cache only
// root can write), 'glujs' resolved to this package, and every file any
// require loads checked first (StrictModes, trust.ts).
import Module from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { cacheDir, checkTrusted, forgetChecks, trustedEntry } from './trust';

/** Who may own the files of the module being loaded (StrictModes, trust.ts). */
let moduleOwner = 0;

/** Loads the translator module: .ts/.mts/.cts/.mjs are transpiled (TypeScript's
 * transpileModule, with inline source maps); 'glujs' resolves to this package.
 * Every file loaded must pass {@link checkTrusted}. */
export function loadModule(file: string): any {
  const M = Module as any;
  const pkgRoot = path.resolve(__dirname, '..', '..', '..'); // dist/lib/daemon -> the package
  if (!M.__glujs) {
    M.__glujs = true;
    const resolve = M._resolveFilename;
    M._resolveFilename = function (request: string, parent: unknown, ...rest: unknown[]) {
      if (request === 'glujs' || request.startsWith('glujs/'))
        return resolve.call(this, packageEntry(pkgRoot, request), parent, ...rest);
      try {
        return resolve.call(this, request, parent, ...rest);
      } catch (e) {
        // TypeScript style: import './x.js' names ./x.ts
        if (request.startsWith('.') && request.endsWith('.js'))
          return resolve.call(this, request.slice(0, -3) + '.ts', parent, ...rest);
        throw e;
      }
    };
    const compile = (m: any, filename: string) => m._compile(transpile(filename), filename);
    for (const ext of ['.ts', '.mts', '.cts', '.mjs']) M._extensions[ext] = compile;
    const js = M._extensions['.js'];
    M._extensions['.js'] = (m: any, filename: string) => {
      try { return js(m, filename); } catch (e) {
        if ((e as { code?: string }).code === 'ERR_REQUIRE_ESM') return compile(m, filename);
        throw e;
      }
    };
    // StrictModes: every file that any require loads, of every kind
    for (const ext of Object.keys(M._extensions)) {
      const load = M._extensions[ext];
      M._extensions[ext] = (m: any, filename: string) => { checkTrusted(filename, moduleOwner); return load(m, filename); };
    }
  }
  const abs = path.resolve(file);
  if (!fs.existsSync(abs)) throw new Error(`${abs}: no such file`);
  moduleOwner = fs.statSync(abs).uid;
  forgetChecks(); // a reload or restart looks again
  checkTrusted(abs, moduleOwner);
  return require(abs);
}

/** 'glujs' or 'glujs/<sub>' as a file of this package, through its package.json
 * "exports" ('glujs/testing' is dist/lib/testing/index.js). */
function packageEntry(pkgRoot: string, request: string): string {
  const sub = '.' + request.slice('glujs'.length);
  const exports = JSON.parse(fs.readFileSync(path.join(pkgRoot, 'package.json'), 'utf8')).exports ?? {};
  const entry = exports[sub];
  // "./x": "file", or conditions: { types, require, default }
  const target = typeof entry === 'string' ? entry : entry?.require ?? entry?.default;
  return typeof target === 'string' ? path.join(pkgRoot, target) : path.join(pkgRoot, sub);
}

/** Transpiled output is cached on disk (by content), so that starting an
 * environment does not load the TypeScript compiler (~0.5 s, ~40 MB) again. */
function transpile(filename: string): string {
  const source = fs.readFileSync(filename, 'utf8');
  const tsVersion = JSON.parse(fs.readFileSync(require.resolve('typescript/package.json'), 'utf8')).version;
  const key = createHash('sha256').update(`glujs-1 ts-${tsVersion}\0${filename}\0${source}`).digest('hex');
  const warn = (m: string) => console.warn(m); // the daemon's log, under the xlator's name
  const dir = cacheDir(warn);
  const cached = dir ? path.join(dir, `${key}.js`) : '';
  if (cached && trustedEntry(cached, warn)) {
    try { return fs.readFileSync(cached, 'utf8'); } catch { /* gone meanwhile */ }
  }
  const out = compileTs(filename, source);
  if (!dir) return out;
  try {
    const tmp = `${cached}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, out, { mode: 0o600 });
    fs.renameSync(tmp, cached);
  } catch { /* a read-only or full disk only costs the next start time */ }
  return out;
}

function compileTs(filename: string, source: string): string {
  const ts = require('typescript') as typeof import('typescript');
  const out = ts.transpileModule(source, {
    // .mjs/.mts would be emitted as ES modules whatever 'module' says
    fileName: filename.replace(/\.m([jt])s$/, '.$1s'),
    reportDiagnostics: true,
    compilerOptions: {
      module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true,
      inlineSourceMap: true, inlineSources: true, allowJs: true,
    },
  });
  const errors = (out.diagnostics ?? []).filter((d) => d.category === ts.DiagnosticCategory.Error);
  if (errors.length) {
    const msg = errors.map((d) => {
      const pos = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start) : undefined;
      return `${filename}${pos ? `:${pos.line + 1}:${pos.character + 1}` : ''}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
    }).join('\n');
    throw new SyntaxError(msg);
  }
  return out.outputText;
}
