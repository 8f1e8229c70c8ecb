// The runtime's log: into the GlusterFS log, under the xlator's name.
import util from 'node:util';
import { LOG_LEVEL } from '../gen/shared';
import type { Logger } from '../translator';
import type { Native } from './native';

export function makeLogger(native: Native): Logger {
  const at = (l: number) => (msg: string) => native.log(l, String(msg));
  return { error: at(LOG_LEVEL.error), warn: at(LOG_LEVEL.warning), info: at(LOG_LEVEL.info), debug: at(LOG_LEVEL.debug), trace: at(LOG_LEVEL.trace) };
}

/** Text for a thrown value, whatever it is: never throws (a getter, a Proxy trap or a
 * borrowed prototype can make inspecting it throw), and stays short. */
export function describe(e: unknown): string {
  try {
    if (e instanceof Error) return String(e.stack ?? `${e.name}: ${e.message}`).slice(0, 8192);
    return util.inspect(e, { depth: 3, maxArrayLength: 20, maxStringLength: 200, breakLength: Infinity }).slice(0, 8192);
  } catch {
    try { return `${Object.prototype.toString.call(e)} (cannot be inspected)`; } catch { return '(a value that cannot be described)'; }
  }
}
