// What every benchmark here does at its end: print its markdown report, write it to its
// results file, and turn a failure into an exit status (2: bad arguments, 1: anything else).
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Thrown for bad command-line arguments: the message is the usage, the exit status 2. */
export class UsageError extends Error {}

/** The report to stdout and to `file` (its directory created). */
export function publish(text: string, file: string, log: (s: string) => void): void {
  process.stdout.write(text + '\n');
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text + '\n');
  log(`written to ${path.relative(process.cwd(), file) || file}`);
}

/** Run a benchmark's main; failures go to `log`, with the exit status. */
export function runMain(main: () => Promise<void>, log: (s: string) => void): void {
  main().catch((e) => {
    if (e instanceof UsageError) { log(e.message); process.exitCode = 2; return; }
    log(e instanceof Error ? e.stack ?? e.message : String(e));
    process.exitCode = 1;
  });
}
