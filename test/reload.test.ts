// Hot reload: with `option watch on`, a change to the module file reloads it
// without a remount; fops in flight finish on the old code, and state crosses
// over through handoff()/adopt().
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { withVolume } from '../lib/testing';
import { glujs, grep, until, errCode, alive } from './util';

const version = (v: number, answer: string) => `
import { Translator, type Op } from 'glujs';
export default class Versioned extends Translator {
  seen = 0;
  async lookup(op: Op<'lookup'>) {
    if (op.loc.name === 'slow') await new Promise((r) => setTimeout(r, 1500));
    if (op.loc.name === 'probe' || op.loc.name === 'slow') {
      this.seen++;
      this.log.info(\`v${v} answers \${op.loc.name} (seen \${this.seen})\`);
      return op.fail('${answer}');
    }
    return op.wind();
  }
  handoff() { return { seen: this.seen, from: ${v} }; }
  adopt(state: { seen: number; from: number }) {
    this.seen = state.seen;
    this.log.info(\`v${v} adopted seen=\${state.seen} from v\${state.from}\`);
  }
}
`;

test('a changed module file is reloaded without a remount; in-flight fops finish on the old code', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'glujs-reload-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const mod = path.join(dir, 'versioned.ts');
  fs.writeFileSync(mod, version(1, 'EACCES'));
  const v = await withVolume(t, { client: [glujs('ver', mod, { watch: 'on', 'handler-timeout': 10 })] });
  fs.mkdirSync(path.join(v.mount, 'd'));
  const probe = () => errCode(() => fs.statSync(path.join(v.mount, 'd', 'probe')));
  assert.equal(probe(), 'EACCES');
  assert.equal(probe(), 'EACCES');

  // a slow fop is in flight on v1 when the file changes
  const slow = fs.promises.stat(path.join(v.mount, 'd', 'slow')).then(() => 'ok', (e) => e.code);
  await new Promise((r) => setTimeout(r, 200));
  fs.writeFileSync(mod, version(2, 'EPERM'));
  await until(() => probe() === 'EPERM', 5000, 'v2 to answer');
  assert.equal(await slow, 'EACCES', 'the fop in flight finished on v1');
  assert.ok(alive(v.clientPids[0]));

  const log = v.log(0);
  assert.equal(grep(log, /0-ver: v1 answers slow/).length, 1, 'v1 answered the slow fop');
  assert.match(log, /0-ver: reloaded translator module .*versioned\.ts/);
  assert.match(log, /0-ver: v2 adopted seen=[23] from v1/);
  assert.match(log, /0-ver: v2 answers probe \(seen [34]\)/);

  // a broken edit keeps the working module
  fs.writeFileSync(mod, 'export default class {');
  await until(() => grep(v.log(0), 'cannot reload translator module').length > 0, 5000, 'the failed reload to be logged');
  assert.equal(probe(), 'EPERM');
});

test('20 hot reloads under load: no failed fop, no crash, environments released', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'glujs-reload-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const mod = path.join(dir, 'gen.ts');
  const src = (n: number) => `import { Translator, type Op } from 'glujs';
export default class Gen${n} extends Translator {
  async lookup(op: Op<'lookup'>) { return op.wind(); }
  async writev(op: Op<'writev'>) { return op.wind(); }
  handoff() { return ${n}; }
}
`;
  fs.writeFileSync(mod, src(0));
  const v = await withVolume(t, { client: [glujs('gen', mod, { watch: 'on' })] });
  const threads = () => fs.readdirSync(`/proc/${v.clientPids[0]}/task`).length;
  const t0 = threads();
  let stop = false, ops = 0;
  const errors: string[] = [];
  const load = (async () => {
    for (let i = 0; !stop; i++) {
      const p = path.join(v.mount, `f${i % 50}`);
      try {
        await fs.promises.writeFile(p, `data ${i}`);
        if ((await fs.promises.readFile(p, 'utf8')) !== `data ${i}`) errors.push(`mismatch at ${i}`);
        await fs.promises.stat(path.join(v.mount, `missing${i % 7}`)).catch((e) => { if (e.code !== 'ENOENT') throw e; });
        ops++;
      } catch (e) {
        errors.push(String((e as Error).message));
      }
    }
  })();
  try {
    for (let n = 1; n <= 20; n++) {
      fs.writeFileSync(mod, src(n));
      await until(() => grep(v.log(0), 'reloaded translator module').length >= n, 10000, `reload ${n}`);
    }
  } finally {
    stop = true;
    await load;
  }
  assert.deepEqual(errors, [], `${ops} operations under load`);
  assert.ok(ops > 20, `${ops} operations ran`);
  assert.ok(alive(v.clientPids[0]));
  await until(() => threads() <= t0 + 2, 10000, `threads back near ${t0} (now ${threads()})`);
});

test('option watch also reloads when only a local file the module imports changes', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'glujs-watch-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.writeFileSync(path.join(dir, 'answer.ts'), "export const ANSWER = 'EACCES';\n");
  const mod = path.join(dir, 'uses-helper.ts');
  fs.writeFileSync(mod, `import { Translator, type Op } from 'glujs';
import { ANSWER } from './answer';
export default class UsesHelper extends Translator {
  lookup(op: Op<'lookup'>) { return op.loc.name === 'probe' ? op.fail(ANSWER as 'EACCES') : op.forward(); }
}
`);
  const v = await withVolume(t, { client: [glujs('js-watch', mod, { watch: 'on' })] });
  const probe = () => errCode(() => fs.statSync(path.join(v.mount, 'probe')));
  assert.equal(probe(), 'EACCES');
  await new Promise((r) => setTimeout(r, 1100)); // a new mtime second
  fs.writeFileSync(path.join(dir, 'answer.ts'), "export const ANSWER = 'EPERM';\n");
  await until(() => probe() === 'EPERM', 10000, 'the helper\'s new answer');
  assert.equal(grep(v.log(0), 'reloaded translator module').length, 1, 'one reload, for the helper alone');
});
