// SIGUSR1 statedumps of the daemons the harnesses started. Internal: not part of glujs's API.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readText, sleep } from './proc';
import { running, type Daemon } from './teardown';

const DUMP_OPTIONS_DIR = '/var/run/gluster'; // compiled into libglusterfs (DEFAULT_VAR_RUN_DIRECTORY)

/** Send SIGUSR1 and collect the dump file (dumps of one process are serialised by the caller).
 * `optionsDir` is where the process looks for glusterdump.PID.options: its /var/run/gluster
 * (a cluster host's own /run, seen from here, for a process in another mount namespace). */
export async function statedump(p: Daemon, dumpDir: string, optFiles: Set<string>, optionsDir = DUMP_OPTIONS_DIR): Promise<string> {
  if (!running(p)) throw new Error(`statedump: process ${p.pid} (${p.pidFile}) is not running`);
  // `glusterdump.PID.dump.TIME`; a brick started by glusterd (--brick-name) names it after its brick path instead
  const infix = `.${p.pid}.dump.`;
  const ours = () => fs.readdirSync(dumpDir).filter((f) => f.includes(infix)).map((f) => path.join(dumpDir, f));
  ours().forEach((f) => fs.rmSync(f, { force: true }));
  fs.mkdirSync(optionsDir, { recursive: true });
  const opt = path.join(optionsDir, `glusterdump.${p.pid}.options`);
  fs.writeFileSync(opt, `all=yes\npath=${dumpDir}\n`);
  optFiles.add(opt);
  try {
    process.kill(p.pid, 'SIGUSR1');
    for (const end = Date.now() + 5000; Date.now() < end; await sleep(25)) {
      for (const f of ours()) {
        const text = readText(f);
        if (text.includes('DUMP-END-TIME')) { fs.rmSync(f, { force: true }); return text; }
      }
    }
    throw new Error(`statedump: no complete *.${p.pid}.dump.* in ${dumpDir} within 5 s`);
  } finally { fs.rmSync(opt, { force: true }); optFiles.delete(opt); }
}

