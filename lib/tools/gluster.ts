// Talking to glusterd, through the gluster CLI in script mode.
import { spawnSync } from 'node:child_process';
import { UsageError, type Parsed } from './args';

/** Which glusterd the gluster CLI talks to: its socket (a private glusterd), a server, or the default. */
export interface GlusterdTarget { sock?: string; server?: string; }

/** How long one gluster command may take: GLUJS_GLUSTER_TIMEOUT_MS, default 60 s (a busy or instrumented cluster may need more). */
const TIMEOUT_MS = Number(process.env.GLUJS_GLUSTER_TIMEOUT_MS) > 0 ? Number(process.env.GLUJS_GLUSTER_TIMEOUT_MS) : 60000;

/** Run the gluster CLI in script mode. Never throws; code null = could not run. */
export function gluster(gd: GlusterdTarget, args: string[], timeoutMs = TIMEOUT_MS): { code: number | null; out: string; err: string } {
  const pre = ['--mode=script'];
  if (gd.server) pre.push(`--remote-host=${gd.server}`);
  else if (gd.sock) pre.push(`--glusterd-sock=${gd.sock}`);
  if (process.env.GLUJS_GLUSTER_LOG) pre.push(`--log-file=${process.env.GLUJS_GLUSTER_LOG}`);
  const r = spawnSync('gluster', [...pre, ...args], { encoding: 'utf8', timeout: timeoutMs });
  return { code: r.error ? null : r.status, out: r.stdout ?? '', err: (r.stderr ?? '') + (r.error ? String(r.error.message) : '') };
}
export const reachable = (gd: GlusterdTarget) => gluster(gd, ['system::', 'getwd'], 15000).code === 0;
export const cliMessage = (r: { out: string; err: string }) => (r.err.trim() || r.out.trim()).split('\n').slice(0, 3).join(' ');

/** --glusterd-sock (or GLUJS_GLUSTERD_SOCK) and --server. */
export function glusterdFrom(p: Parsed): GlusterdTarget {
  return { sock: p.values.get('glusterd-sock') ?? process.env.GLUJS_GLUSTERD_SOCK, server: p.values.get('server') };
}

/** `gluster system:: getspec V`: the volfile glusterd hands a (trusted) client. */
export function getspec(gd: GlusterdTarget, volname: string): string {
  const r = gluster(gd, ['system::', 'getspec', volname]);
  if (r.code === 0 && /\bvolume\b/.test(r.out)) return r.out.replace(/\n\n$/, '\n');
  if (/Connection failed|daemon is operational/i.test(r.out + r.err) || r.code === null) {
    throw new Error(`cannot reach glusterd${gd.server ? ` on ${gd.server}` : ''}: ${cliMessage(r)}`);
  }
  const info = gluster(gd, ['volume', 'info', volname]);
  if (info.code !== 0 && /does not exist/i.test(info.out + info.err)) throw new UsageError(`glusterd has no volume '${volname}'`);
  throw new Error(`gluster system:: getspec ${volname} failed (exit ${r.code}): ${cliMessage(r) || 'no output'}`);
}

/** Make glusterd rewrite (and re-filter) the volfiles of `volname` and notify its clients,
 * without changing any option: re-set diagnostics.client-log-level to its current value
 * (and reset it again if it was not set before). Returns a description of what ran. */
export function regenerate(gd: GlusterdTarget, volname: string): string {
  const KEY = 'diagnostics.client-log-level';
  const get = gluster(gd, ['volume', 'get', volname, KEY, '--xml']);
  const value = /<Value>([^<]*)<\/Value>/.exec(get.out)?.[1];
  if (get.code !== 0 || !value) throw new Error(`gluster volume get ${volname} ${KEY} failed: ${cliMessage(get)}`);
  const info = gluster(gd, ['volume', 'info', volname, '--xml']);
  const wasSet = new RegExp(`<name>${KEY.replace(/\./g, '\\.')}</name>`).test(info.out);
  const set = gluster(gd, ['volume', 'set', volname, KEY, value]);
  if (set.code !== 0) throw new Error(`gluster volume set ${volname} ${KEY} ${value} failed: ${cliMessage(set)}`);
  let done = `gluster volume set ${volname} ${KEY} ${value}`;
  if (!wasSet) {
    const reset = gluster(gd, ['volume', 'reset', volname, KEY]);
    if (reset.code !== 0) throw new Error(`gluster volume reset ${volname} ${KEY} failed: ${cliMessage(reset)}`);
    done += ` && gluster volume reset ${volname} ${KEY}`;
  }
  return done;
}
