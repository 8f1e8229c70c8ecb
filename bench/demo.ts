// glujs demo: a throwaway GlusterFS volume whose client graph runs examples/trace.ts
// (one log line per fop and per reply), a few everyday file operations in its FUSE
// mount, and what the TypeScript translator saw. Run: node dist/bench/demo.js
import * as fs from 'node:fs';
import * as path from 'node:path';
import { startVolume, type Volume } from '../lib/testing';

const ROOT = path.resolve(__dirname, '..', '..'); // run from dist/bench
const say = (s = '') => console.log(s);
process.stdout.on('error', () => { /* e.g. `npm run demo | head`: keep going so the volume is torn down */ });
const heading = (s: string) => say(`\n== ${s} ==`);
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The trace translator's log lines, without GlusterFS's `[time] I [file:line:func] 0-trace: ` prefix. */
function traceLines(v: Volume): string[] {
  return v.log(0).split('\n').filter((l) => l.includes('0-trace:'))
    .map((l) => l.replace(/^\[[^\]]*\] [A-Z] (\[MSGID: \d+\] )?\[[^\]]*\] 0-trace: /, '').trimEnd());
}

async function main(): Promise<void> {
  heading('glujs demo');
  say('Starting a brick and a FUSE mount; the client graph is:');
  say('  fuse -> trace (features/glujs running examples/trace.ts) -> protocol/client -> brick');
  const t0 = Date.now();
  const v = await startVolume({
    client: [{ name: 'trace', type: 'features/glujs', options: { module: path.join(ROOT, 'examples', 'trace.ts') } }],
  });
  try {
    say(`Mounted at ${v.mount} in ${Date.now() - t0} ms (brick pid ${v.brickPid}, client pid ${v.clientPids[0]}).`);

    heading('File operations in the mount');
    const m = (...p: string[]) => path.join(v.mount, ...p);
    const step = (what: string, fn: () => unknown) => {
      let result: string;
      try { const r = fn(); result = r === undefined ? 'ok' : JSON.stringify(r); } catch (e) { result = (e as NodeJS.ErrnoException).code ?? String(e); }
      say(`  ${what.padEnd(38)} ${result}`);
    };
    step('mkdir /demo', () => fs.mkdirSync(m('demo')));
    step('write /demo/hello.txt', () => fs.writeFileSync(m('demo', 'hello.txt'), 'Hello from glujs!\n'));
    step('read /demo/hello.txt', () => fs.readFileSync(m('demo', 'hello.txt'), 'utf8'));
    step('rename -> /demo/greeting.txt', () => fs.renameSync(m('demo', 'hello.txt'), m('demo', 'greeting.txt')));
    step('list /demo', () => fs.readdirSync(m('demo')));
    step('stat /demo/missing (expect ENOENT)', () => fs.statSync(m('demo', 'missing')).size);
    step('unlink /demo/greeting.txt', () => fs.unlinkSync(m('demo', 'greeting.txt')));

    // Log lines are written by the JS thread; give the last reply a moment to land.
    for (let i = 0; i < 40 && !traceLines(v).some((l) => /#\d+ unlink -> /.test(l)); i++) await sleep(50);
    heading(`What the translator logged (${v.clientLogs[0]})`);
    const lines = traceLines(v);
    for (const l of lines) say(`  ${l}`);
    if (!lines.length) say('  (no trace lines found: is the glujs xlator installed? try `npm run setup`)');
  } finally {
    say('\nStopping the volume...');
    await v.stop();
  }
  printBenchSummary();
}

// ---------------------------------------------------------------------------
// Benchmark summary: prints the "Summary" section of bench/RESULTS.md, if any.
// ---------------------------------------------------------------------------
function printBenchSummary(): void {
  heading('Benchmark summary');
  const file = path.join(ROOT, 'bench', 'RESULTS.md');
  let text: string;
  try { text = fs.readFileSync(file, 'utf8'); } catch {
    say('No bench/RESULTS.md yet: run `npm run bench` to measure what glujs adds to a lookup.');
    return;
  }
  const lines = text.split('\n');
  const start = lines.findIndex((l) => /^#{1,6}\s+Summary\b/i.test(l));
  if (start < 0) { say(`bench/RESULTS.md has no "Summary" section; see ${file}.`); return; }
  const level = /^#+/.exec(lines[start])![0].length;
  const end = lines.findIndex((l, i) => i > start && (/^#+/.exec(l)?.[0].length ?? 99) <= level);
  say(lines.slice(start + 1, end < 0 ? undefined : end).join('\n').trim());
}

main().catch((e) => {
  console.error(e instanceof Error ? e.stack ?? e.message : e);
  process.exitCode = 1;
});
