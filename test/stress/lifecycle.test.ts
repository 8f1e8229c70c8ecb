// Lifecycle: the FUSE client (with glujs in its graph) must exit cleanly however it
// is taken down.
// 1. Unmounts with fops in flight: a burst of async stats, reads, writes, renames and
//    listings runs from a child process whose cwd is the mount; the mount is lazily
//    unmounted (umount -l) under it, then the child is stopped, which drops the
//    last reference: the kernel aborts the FUSE connection with requests still
//    in the daemon, and the daemon exits through exit() and glujs's atexit stop.
// 2. Daemon exits through the atexit path: mount, a few fops, a normal unmount.
// Each cycle checks that the glusterfs process exits by itself, that its log has no
// crash report (GlusterFS's "pending frames:" / "frame : type(..)" / "signal received:"),
// and that nothing is left in /proc/mounts. The graph is two glujs instances
// (passthru.ts under await-all.ts, which logs the handlers awaiting a wind at fini).
// Fast mode: 4 + 8 cycles. GLUJS_STRESS=full: 20 + 50.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import crypto from 'node:crypto';
import { spawn } from 'node:child_process';
import { startVolume, type Volume } from '../../lib/testing';
import { fixture, glujs } from '../util';
import { crashLines, exec, glujsErrors, guard, hostLine, mounted, pick, procState, report, sleep, waitExit } from './common';

const graph = (delay = 0) => [glujs('pass', fixture('passthru.ts')), glujs('probe', fixture('await-all.ts'), { delay })];
const EXIT_WAIT_MS = 20_000;

// ---------------------------------------------------------------- burst child
/** Child mode: `lanes` async loops of fops on relative paths (cwd is the mount) until SIGTERM. */
function burst(cfg: { lanes: number }): void {
  let done = 0, busy = 0, ready = false;
  const t0 = Date.now();
  const errors: Record<string, number> = {};
  let stop = false;
  process.on('SIGTERM', () => {
    stop = true;
    process.stdout.write(JSON.stringify({ done, busy, errors }) + '\n', () => process.exit(0));
  });
  const data = crypto.randomBytes(64 << 10);
  const lane = async (l: number) => {
    const d = `burst/L${l}`; // a directory per lane: the kernel serialises creates and renames per directory
    for (let i = 0; !stop; i++) {
      busy++;
      try {
        switch (i % 8) {
          case 0: await fsp.stat(`burst/f${(l + i) % 20}`); break;
          case 1: await fsp.stat(`${d}/missing-${i}`).catch((e) => { if (e.code !== 'ENOENT') throw e; }); break;
          case 2: await fsp.mkdir(d, { recursive: true }); await fsp.writeFile(`${d}/w`, data.subarray(0, 4096 + ((i * 4096) % 60000))); break;
          case 3: await fsp.readFile(`burst/f${(l * 3 + i) % 20}`); break;
          case 4: await fsp.readdir(d); break;
          case 5: await fsp.appendFile(`${d}/w`, data.subarray(0, 1000)); break;
          case 6: await fsp.rename(`${d}/w`, `${d}/r`); await fsp.rename(`${d}/r`, `${d}/w`); break;
          case 7: await fsp.mkdir(`${d}/sub`); await fsp.rmdir(`${d}/sub`); break;
        }
        done++;
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code ?? 'other';
        errors[code] = (errors[code] ?? 0) + 1;
        await sleep(5);
      } finally {
        busy--;
      }
      if (!ready && (done >= 200 || (done > 0 && Date.now() - t0 > 1500))) { ready = true; process.stdout.write('ready\n'); }
    }
  };
  for (let l = 0; l < cfg.lanes; l++) void lane(l);
}

// ---------------------------------------------------------------- one cycle
interface Cycle {
  exitMs: number; // -1: did not exit within EXIT_WAIT_MS
  crash: string[]; leaked: boolean; zombie: boolean;
  fini: number[] | null; // per await-all fini line: its handlers in flight; null: no fini line
  delay: number; // await-all's delay before each wind (ms)
  force: boolean; // umount -f -l instead of umount -l
  shutdown: boolean; // the log shows GlusterFS's own cleanup_and_exit
  glujsErrors: string[];
  burst?: { done: number; busy: number; errors: Record<string, number> };
  umount: number | null;
  ms: number;
}

function examine(v: Volume, c: Omit<Cycle, 'crash' | 'leaked' | 'zombie' | 'fini' | 'shutdown' | 'glujsErrors'>): Cycle {
  const log = v.log(0);
  const fini = [...log.matchAll(/await-all fini: (\d+) handlers in flight/g)].map((m) => Number(m[1]));
  return {
    ...c,
    crash: crashLines(log),
    leaked: mounted(v.mount),
    zombie: procState(v.clientPids[0]) === 'Z',
    fini: fini.length ? fini : null,
    shutdown: /cleanup_and_exit.*shutting down/.test(log),
    glujsErrors: [...glujsErrors(log, 'pass'), ...glujsErrors(log, 'probe')],
  };
}

async function unmountInFlight(i: number): Promise<Cycle> {
  const t0 = Date.now();
  // Variants by i % 4: every other cycle each fop waits 100 ms in JS before its wind; half of the cycles
  // force the unmount (umount -f -l: the kernel aborts the FUSE connection at once, with requests still in
  // the daemon; a plain lazy unmount lets every request already sent finish before the connection goes).
  const delay = i % 2 ? 100 : 0, force = i % 4 >= 2;
  const v = await startVolume({ client: graph(delay) });
  try {
    const pid = v.clientPids[0];
    fs.mkdirSync(path.join(v.mount, 'burst'));
    for (let f = 0; f < 20; f++) fs.writeFileSync(path.join(v.mount, 'burst', `f${f}`), crypto.randomBytes(8192));
    const child = spawn(process.execPath, [__filename], {
      cwd: v.mount, stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, UV_THREADPOOL_SIZE: '32', GLUJS_BURST_CHILD: JSON.stringify({ lanes: 32 }) },
    });
    let out = '', err = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    const closed = new Promise<void>((r) => child.on('close', () => r()));
    await guard((async () => { while (!out.includes('ready\n')) await sleep(10); })(), 20_000, `cycle ${i}: burst ready (stderr: ${err})`);
    await sleep(20 + (i * 37) % 200);
    const um = await exec('umount', [force ? '-fl' : '-l', v.mount], { timeoutMs: 10_000 });
    // let the burst run on the detached mount for a moment, then drop the last reference
    await sleep((i * 53) % 150);
    child.kill('SIGTERM');
    await guard(closed, 10_000, `cycle ${i}: burst child exits`).catch(() => child.kill('SIGKILL'));
    await closed;
    const line = out.split('\n').find((l) => l.startsWith('{'));
    const exitMs = await waitExit(pid, EXIT_WAIT_MS);
    return examine(v, { exitMs, umount: um.code, burst: line ? JSON.parse(line) : undefined, ms: Date.now() - t0, delay, force });
  } finally {
    await v.stop();
  }
}

async function mountFopsUnmount(i: number): Promise<Cycle> {
  const t0 = Date.now();
  const v = await startVolume({ client: graph() });
  try {
    const pid = v.clientPids[0];
    const m = (p: string) => path.join(v.mount, p);
    await guard((async () => {
      await fsp.mkdir(m('d'));
      const data = crypto.randomBytes(64 << 10);
      await fsp.writeFile(m('d/f'), data);
      assert.ok((await fsp.readFile(m('d/f'))).equals(data), `cycle ${i}: read back`);
      await fsp.stat(m('d/f'));
      await fsp.rename(m('d/f'), m('d/g'));
      assert.deepEqual(await fsp.readdir(m('d')), ['g']);
      const x = await exec('setfattr', ['-n', 'user.cycle', '-v', String(i), m('d/g')], { timeoutMs: 10_000 });
      assert.equal(x.code, 0, x.err);
      for (let k = 0; k < 10; k++) await fsp.stat(m(`d/missing-${k}`)).catch(() => undefined);
      await fsp.unlink(m('d/g'));
    })(), 30_000, `cycle ${i}: fops`);
    const um = await exec('umount', [v.mount], { timeoutMs: 10_000 });
    const exitMs = await waitExit(pid, EXIT_WAIT_MS);
    return examine(v, { exitMs, umount: um.code, ms: Date.now() - t0, delay: 0, force: false });
  } finally {
    await v.stop();
  }
}

function summary(title: string, what: string, cycles: Cycle[]): string[] {
  const exits = cycles.map((c) => c.exitMs).filter((x) => x >= 0).sort((a, b) => a - b);
  const fini = cycles.flatMap((c) => c.fini ?? []);
  const lines = [
    `- ${new Date().toISOString()}; ${hostLine()}`,
    `- ${what}`,
    `- cycles ${cycles.length}: exited by themselves **${exits.length}** (median ${exits[exits.length >> 1] ?? '-'} ms, max ${exits[exits.length - 1] ?? '-'} ms after the unmount/abort), ` +
      `did not exit within ${EXIT_WAIT_MS / 1000} s **${cycles.filter((c) => c.exitMs < 0).length}**, ` +
      `crash reports in the log **${cycles.filter((c) => c.crash.length).length}**, mounts left in /proc/mounts **${cycles.filter((c) => c.leaked).length}**, ` +
      `umount failures ${cycles.filter((c) => c.umount !== 0).length}`,
    `- the exit path: GlusterFS cleanup_and_exit logged in ${cycles.filter((c) => c.shutdown).length}/${cycles.length}; ` +
      `glujs's atexit stop ran fini (await-all's log line) in ${cycles.filter((c) => c.fini).length}/${cycles.length}; ` +
      `its handlers still in flight at that moment: total ${fini.reduce((a, b) => a + b, 0)}, max ${Math.max(0, ...fini)}; ` +
      `zombies (exited, not yet reaped by pid 1) at the check: ${cycles.filter((c) => c.zombie).length}; glujs error lines: ${cycles.reduce((n, c) => n + c.glujsErrors.length, 0)}`,
  ];
  if (cycles.some((c) => c.burst)) {
    const errs: Record<string, number> = {};
    for (const c of cycles) for (const [k, n] of Object.entries(c.burst?.errors ?? {})) errs[k] = (errs[k] ?? 0) + n;
    lines.push(`- burst: ${cycles.reduce((n, c) => n + (c.burst?.done ?? 0), 0)} fops completed in all, ` +
      `${cycles.map((c) => c.burst?.busy ?? '?').join('/')} still pending in the child when it was stopped; ` +
      `errors seen by the burst (expected once the connection is gone): ${JSON.stringify(errs)}`);
  }
  if (cycles.some((c) => c.burst)) {
    lines.push('', '| cycle | unmount | delay ms | exit ms | JS handlers in flight at fini | burst fops done | pending in burst | burst errors |',
      '|---:|---|---:|---:|---:|---:|---:|---|');
    for (const [i, c] of cycles.entries())
      lines.push(`| ${i} | ${c.force ? 'umount -f -l' : 'umount -l'} | ${c.delay} | ${c.exitMs} | ${c.fini?.join('+') ?? 'no fini line'} | ` +
        `${c.burst?.done ?? '?'} | ${c.burst?.busy ?? '?'} | ${JSON.stringify(c.burst?.errors ?? {})} |`);
    lines.push('');
  }
  for (const [i, c] of cycles.entries()) {
    if (c.crash.length || c.exitMs < 0 || c.leaked) lines.push(`- cycle ${i}: exit ${c.exitMs} ms, leaked ${c.leaked}, crash:\n\n\`\`\`\n${c.crash.slice(0, 30).join('\n')}\n\`\`\``);
  }
  return lines;
}

// ---------------------------------------------------------------- tests
if (process.env.GLUJS_BURST_CHILD) {
  burst(JSON.parse(process.env.GLUJS_BURST_CHILD));
} else {
  const nUnmounts = pick(4, 20), nExits = pick(8, 50);

  test(`lifecycle: ${nUnmounts} lazy unmounts with fops in flight; the client exits cleanly each time`, { timeout: nUnmounts * 60_000 }, async () => {
    const cycles: Cycle[] = [];
    for (let i = 0; i < nUnmounts; i++) cycles.push(await unmountInFlight(i));
    report(`Lifecycle: ${nUnmounts} unmounts with fops in flight`, summary('unmounts',
      'a child process (cwd in the mount) runs 32 lanes of async stat/read/write/append/rename/mkdir/readdir; the mount is unmounted under it ' +
      'with `umount -l` (requests already sent finish; the connection goes when the child is stopped and drops the last reference) or ' +
      '`umount -f -l` (the kernel aborts the connection at once, with requests still in the daemon); every other cycle await-all delays ' +
      'each fop by 100 ms before its wind, so that the exit finds handlers in flight. Exit ms: from the end of the child to the exit of the daemon', cycles));
    for (const [i, c] of cycles.entries()) {
      assert.equal(c.umount, 0, `cycle ${i}: umount -l`);
      assert.deepEqual(c.crash, [], `cycle ${i}: no crash report in the client log`);
      assert.ok(c.exitMs >= 0, `cycle ${i}: the client exited by itself`);
      assert.equal(c.leaked, false, `cycle ${i}: nothing left in /proc/mounts`);
      assert.ok(c.burst && c.burst.done > 0, `cycle ${i}: the burst ran`);
    }
  });

  test(`lifecycle: ${nExits} daemon exits through the atexit path (mount, fops, unmount)`, { timeout: nExits * 60_000 }, async () => {
    const cycles: Cycle[] = [];
    for (let i = 0; i < nExits; i++) cycles.push(await mountFopsUnmount(i));
    report(`Lifecycle: ${nExits} daemon exits through the atexit path`, summary('exits',
      'mount, mkdir/write/read/stat/rename/readdir/setfattr/missing stats/unlink, then a normal `umount`', cycles));
    for (const [i, c] of cycles.entries()) {
      assert.equal(c.umount, 0, `cycle ${i}: umount`);
      assert.deepEqual(c.crash, [], `cycle ${i}: no crash report in the client log`);
      assert.ok(c.exitMs >= 0, `cycle ${i}: the client exited by itself`);
      assert.equal(c.leaked, false, `cycle ${i}: nothing left in /proc/mounts`);
      assert.ok(c.fini, `cycle ${i}: glujs's atexit stop ran the module's fini`);
      assert.deepEqual(c.glujsErrors, [], `cycle ${i}: no glujs error`);
    }
  });
}
