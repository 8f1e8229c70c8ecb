// What the runtime does to the process before any module runs, so that JS
// cannot touch the daemon's process-wide state (PLATFORM.md): console and
// stdout/stderr into the GlusterFS log, no signal handlers, no abort, a
// private environment, and process.exit() said from where.
import util from 'node:util';
import { Writable } from 'node:stream';
import { LOG_LEVEL as LEVEL } from '../gen/shared';
import type { Logger } from '../translator';
import { describe } from './log';
import type { Native } from './native';

/** Keep JS from touching the daemon's process-wide state (PLATFORM.md). */
export function harden(native: Native, log: Logger): void {
  // console and process.stdout/stderr go to the GlusterFS log, never to fds 1/2.
  const sink = (level: number) => new Writable({
    write(chunk, _enc, cb) { native.log(level, String(chunk).replace(/\n$/, '')); cb(); },
  });
  const out = sink(LEVEL.info), err = sink(LEVEL.error);
  Object.defineProperty(process, 'stdout', { value: out, configurable: true });
  Object.defineProperty(process, 'stderr', { value: err, configurable: true });
  const fmt = (level: number) => (...a: unknown[]) => native.log(level, util.format(...a));
  Object.assign(console, {
    log: fmt(LEVEL.info), info: fmt(LEVEL.info), warn: fmt(LEVEL.warning), error: fmt(LEVEL.error),
    debug: fmt(LEVEL.debug), trace: (...a: unknown[]) => native.log(LEVEL.info, util.format(...a) + '\n' + new Error().stack),
  });
  // No process-wide signal handlers, no abort, no setenv. Node installs a
  // signal handler when a listener for a signal name is added (its own
  // 'newListener' hook): remove that hook, so no path (process.on, or
  // EventEmitter.prototype.on.call(process, ...)) reaches it.
  const signals = new Set(Object.keys(require('node:os').constants.signals));
  const hooks = process as unknown as NodeJS.EventEmitter;
  for (const l of hooks.listeners('newListener'))
    if (l.name === 'startListeningIfSignal') hooks.removeListener('newListener', l as (...a: unknown[]) => void);
  hooks.on('newListener', (ev: string | symbol) => {
    if (typeof ev === 'string' && signals.has(ev))
      log.warn(`a '${ev}' listener was added: it will never run; signals belong to the GlusterFS daemon`);
  });
  for (const m of ['on', 'addListener', 'once', 'prependListener', 'prependOnceListener'] as const) {
    const orig = process[m].bind(process) as (...a: any[]) => NodeJS.Process;
    (process as any)[m] = (ev: string | symbol, fn: (...a: any[]) => void) => {
      if (typeof ev === 'string' && signals.has(ev)) {
        log.warn(`process.${m}('${ev}') ignored: signals belong to the GlusterFS daemon`);
        return process;
      }
      return orig(ev, fn);
    };
  }
  process.abort = () => { throw new Error('process.abort() is not allowed inside a GlusterFS daemon'); };
  // process.exit() stops only this environment (native exit handler); say from where
  const exit = process.exit.bind(process);
  process.exit = ((code?: number) => {
    log.error(`process.exit(${code ?? ''}) called ${new Error().stack?.split('\n').slice(2, 5).join(' <- ').trim()}`);
    return exit(code);
  }) as typeof process.exit;
  process.env = { ...process.env };
  process.on('uncaughtException', (e) => log.error(`uncaught exception: ${describe(e)}`));
  process.on('unhandledRejection', (e) => log.error(`unhandled rejection: ${describe(e)}`));
  process.setSourceMapsEnabled?.(true);
}
