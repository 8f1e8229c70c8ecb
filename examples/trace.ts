// trace: one handler for every fop. Logs one compact line per fop and one per
// reply, for every fop JS can handle, installed from the fop table with
// Translator.handleAll, and reads any argument or reply field by its name.
//
//   glujs dev examples/trace.ts
import { Translator, FOPS, JS_FOPS, errnoName } from 'glujs';

/** A short form of any fop value: paths for locs, sizes for data, keys for dicts. */
function show(v: unknown): string {
  if (v === null || v === undefined) return '-';
  if (typeof v === 'bigint' || typeof v === 'number') return String(v);
  if (typeof v === 'string') return JSON.stringify(v);
  if (Buffer.isBuffer(v)) return `<${v.length} bytes>`;
  if (v instanceof Map) return `{${[...v.keys()].join(',')}}`;
  if (Array.isArray(v)) return `[${v.length} entries]`;
  if (typeof v !== 'object') return String(v);
  if ('path' in v) return String(v.path ?? Reflect.get(v, 'gfid'));                 // loc
  if ('mode' in v && 'size' in v) return `(${Number(v.mode).toString(8)} ${v.size}b)`; // iatt
  if ('gfid' in v) return `gfid:${String(v.gfid).slice(0, 8)}`;                     // fd, inode
  return JSON.stringify(v);
}

export default class Trace extends Translator {
  private seq = 0;

  static {
    this.handleAll(JS_FOPS, async function (op) {
      const id = ++this.seq;
      // the field names of this fop, from the fop table; Reflect.get reads a field by name
      const { args, reply: fields }: { args: readonly string[]; reply: readonly string[] } = FOPS[op.fop];
      this.log.info(`#${id} ${op.fop}(${args.map((a) => `${a}=${show(Reflect.get(op, a))}`).join(' ')})`);
      const reply = await op.wind();
      const rest = fields.slice(2).map((f) => `${f}=${show(Reflect.get(reply, f))}`).join(' ');
      this.log.info(`#${id} ${op.fop} -> ${reply.opRet < 0 ? `-1 ${errnoName(reply.opErrno)}` : reply.opRet} ${rest}`);
      return reply;
    });
  }
}
