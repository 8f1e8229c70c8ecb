// trace: one compact log line per fop and one per reply, for every fop JS can
// handle. Shows that handlers can be installed from the fop table instead of
// written one by one, and how to read any argument or reply field by name.
import { Translator, FOPS, errnoName, type FopName, type Op } from 'glujs';

/** A short form of any fop value: paths for locs, sizes for data, keys for dicts. */
function show(v: unknown): string {
  if (v === null || v === undefined) return '-';
  if (typeof v === 'bigint' || typeof v === 'number') return String(v);
  if (typeof v === 'string') return JSON.stringify(v);
  if (Buffer.isBuffer(v)) return `<${v.length} bytes>`;
  if (v instanceof Map) return `{${[...v.keys()].join(',')}}`;
  if (Array.isArray(v)) return `[${v.length} entries]`;
  const o = v as Record<string, unknown>;
  if ('path' in o) return String(o.path ?? o.gfid);                       // loc
  if ('mode' in o && 'size' in o) return `(${(o.mode as number).toString(8)} ${o.size}b)`; // iatt
  if ('gfid' in o) return `gfid:${String(o.gfid).slice(0, 8)}`;           // fd, inode
  return JSON.stringify(o);
}

export default class Trace extends Translator {
  seq = 0;
}

for (const fop of Object.keys(FOPS) as FopName[]) {
  const info = FOPS[fop];
  if (!info.js) continue;
  (Trace.prototype as any)[fop] = async function (this: Trace, op: Op<FopName> & Record<string, unknown>) {
    const id = ++this.seq;
    this.log.info(`#${id} ${fop}(${info.args.map((a) => `${a}=${show(op[a])}`).join(' ')})`);
    const reply = (await op.wind()) as unknown as Record<string, unknown>;
    const ret = reply.opRet as number;
    const rest = info.reply.slice(2).map((f) => `${f}=${show(reply[f])}`).join(' ');
    this.log.info(`#${id} ${fop} -> ${ret < 0 ? `-1 ${errnoName(reply.opErrno as number)}` : ret} ${rest}`);
    return reply as any;
  };
}
