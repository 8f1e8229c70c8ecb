// `glujs new NAME`: scaffold a translator author's project, in the current
// directory when it already has a package.json (glujs installed there), else
// in ./NAME: package.json (glujs as a dependency), tsconfig.json, src/NAME.ts
// (a small translator), test/NAME.test.ts (withTranslator on a real volume)
// and a README with the volfile stanza and the glusterd lines. Existing files
// are never overwritten.
import fs from 'node:fs';
import path from 'node:path';
import { UsageError } from '../args';
import { ROOT } from '../paths';

const own = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  version: string; dependencies?: Record<string, string>;
};

const translator = (cls: string) => `// ${cls}: refuses to create files whose name ends with the \`suffix\` option
// (EACCES), and counts the creates it let through (statedump: js.created).
//   npx glujs dev src/<this file> --option suffix=.tmp
import { Translator, type Op } from 'glujs';

export default class ${cls} extends Translator {
  static options = { suffix: { type: 'string', default: '.tmp' } } as const;
  created = 0;

  async create(op: Op<'create'>) {
    if (op.loc.name?.endsWith(String(this.options.suffix))) return op.fail('EACCES');
    const reply = await op.wind();
    if (reply.opRet >= 0) this.created++;
    return reply;
  }

  dump() {
    return { created: this.created };
  }
}
`;

const testFile = (name: string, cls: string) => `// ${cls} on a real volume: a brick and a FUSE mount, torn down when the test ends.
// Run as root on a machine where \`npx glujs setup\` has run.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { withTranslator } from 'glujs/testing';

const MODULE = path.resolve(__dirname, '..', '..', 'src', '${name}.ts');

test('${name}: refuses *.tmp creates and passes the rest', async (t) => {
  const mnt = await withTranslator(t, MODULE, { options: { suffix: '.tmp' } });
  fs.writeFileSync(path.join(mnt, 'notes.txt'), 'kept');
  assert.equal(fs.readFileSync(path.join(mnt, 'notes.txt'), 'utf8'), 'kept');
  assert.throws(() => fs.writeFileSync(path.join(mnt, 'scratch.tmp'), 'x'), { code: 'EACCES' });
  assert.equal(fs.existsSync(path.join(mnt, 'scratch.tmp')), false);
});
`;

const readme = (name: string) => `# ${name}

A GlusterFS translator written with [glujs](https://www.npmjs.com/package/glujs).

- \`npx glujs setup\` (as root, once per machine): GlusterFS, libnode and the glujs xlator.
- \`npm test\`: compiles, then runs \`test/${name}.test.ts\` on a throwaway real volume (as root).
- \`npx glujs check src/${name}.ts\`: loads and type-checks the module without GlusterFS.
- \`npx glujs dev src/${name}.ts\`: a throwaway volume with it, its log, reload on change.

In a volfile:

\`\`\`
volume ${name}
  type features/glujs
  option module ${'$'}PWD/src/${name}.ts
  option suffix .tmp
  subvolumes CHILD
end-volume
\`\`\`

On a glusterd volume \`VOL\`, in every client graph (FUSE and gfapi):

\`\`\`
npx glujs filter install --volume VOL --module ${'$'}PWD/src/${name}.ts --option suffix=.tmp
\`\`\`

or on every brick:

\`\`\`
gluster volume set VOL user.xlator.glujs io-threads
gluster volume set VOL user.xlator.glujs.module ${'$'}PWD/src/${name}.ts
\`\`\`
`;

const tsconfig = {
  compilerOptions: {
    target: 'ES2022', module: 'commonjs', moduleResolution: 'node', strict: true, esModuleInterop: true,
    skipLibCheck: true, types: ['node'], outDir: 'dist', rootDir: '.',
  },
  include: ['src/**/*.ts', 'test/**/*.ts'],
};

export function newProject(argv: string[]): number {
  const [name, ...rest] = argv;
  if (!name || rest.length) throw new UsageError('usage: glujs new NAME');
  if (!/^[a-z][a-z0-9-]*$/.test(name)) throw new UsageError(`glujs new: NAME must be lower case letters, digits and '-', starting with a letter (got ${name})`);
  const cls = name.split('-').map((w) => w[0].toUpperCase() + w.slice(1)).join('');
  const here = fs.existsSync(path.join(process.cwd(), 'package.json'));
  const dir = here ? process.cwd() : path.resolve(name);
  fs.mkdirSync(path.join(dir, 'src'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'test'), { recursive: true });
  const made: string[] = [];
  const write = (rel: string, text: string) => {
    const f = path.join(dir, rel);
    if (fs.existsSync(f)) return console.log(`kept ${rel} (it exists)`);
    fs.writeFileSync(f, text);
    made.push(rel);
  };
  // package.json: created, or given the scripts and dependencies it lacks
  const pkgFile = path.join(dir, 'package.json');
  const pkg = here ? JSON.parse(fs.readFileSync(pkgFile, 'utf8')) : { name, version: '0.1.0', private: true };
  pkg.scripts = { build: 'tsc -p .', check: `glujs check src/${name}.ts`, test: 'tsc -p . && node --test dist/test/', ...pkg.scripts };
  if (here && /^echo "Error: no test specified"/.test(pkg.scripts.test ?? '')) pkg.scripts.test = 'tsc -p . && node --test dist/test/';
  pkg.dependencies = { glujs: `^${own.version}`, ...pkg.dependencies };
  pkg.devDependencies = {
    typescript: own.dependencies?.typescript ?? '*', '@types/node': own.dependencies?.['@types/node'] ?? '*', ...pkg.devDependencies,
  };
  fs.writeFileSync(pkgFile, JSON.stringify(pkg, null, 2) + '\n');
  made.push('package.json');
  write('tsconfig.json', JSON.stringify(tsconfig, null, 2) + '\n');
  write(`src/${name}.ts`, translator(cls));
  write(`test/${name}.test.ts`, testFile(name, cls));
  write('README.md', readme(name));
  console.log(`${here ? 'scaffolded' : `created ${path.relative(process.cwd(), dir)}/ with`} ${made.join(', ')}`);
  console.log(here ? 'next: npm install && npm test (as root, after npx glujs setup)'
    : `next: cd ${name} && npm install && npm test (as root, after npx glujs setup)`);
  return 0;
}
