// audit: an audit trail of every change to the volume. One JSON line per
// operation that changes something (create, write, rename, unlink, chmod,
// setxattr, ...): when, which fop, the path, who (uid, gid, pid) and how it
// ended. Shows one handler for a chosen set of fops (Translator.handleAll),
// narrowed by `op.fop`, and who asked (`op.caller`). Written to the file named
// by the `file` option; paths under `exclude` (a prefix) are not logged. Reads
// are not logged: they change nothing.
//
//   glujs dev examples/audit.ts --option file=/tmp/audit.log
import fs from 'node:fs';
import { Translator, errnoName, type Op, type AnyOp } from 'glujs';

const MUTATING = ['create', 'mknod', 'mkdir', 'unlink', 'rmdir', 'symlink', 'rename', 'link',
  'truncate', 'ftruncate', 'writev', 'setattr', 'fsetattr', 'setxattr', 'fsetxattr', 'removexattr',
  'fremovexattr', 'fallocate', 'discard', 'zerofill'] as const;
type Mutating = (typeof MUTATING)[number];

export default class Audit extends Translator {
  static options = {
    file: { type: 'string', default: '/var/log/glusterfs/glujs-audit.log' },
    exclude: { type: 'string', default: '' },
  } as const;

  private out = fs.createWriteStream(String(this.options.file), { flags: 'a' });
  private written = 0;
  /** gfid -> path of files opened or created here, so fd-based fops show a path */
  private paths = new Map<string, string>();

  private remember(gfid: string, path: string | null) {
    if (!path) return;
    this.paths.delete(gfid);
    this.paths.set(gfid, path);
    if (this.paths.size > 10_000) this.paths.delete(this.paths.keys().next().value!);
  }

  /** The path an op is about: its loc, or what its fd was opened as. */
  private where(op: AnyOp<Mutating>): string {
    const loc = 'loc' in op ? op.loc : 'oldloc' in op ? op.oldloc : undefined;
    if (loc) return loc.path ?? `<gfid:${loc.gfid}>`;
    return 'fd' in op ? this.paths.get(op.fd.gfid) ?? `<gfid:${op.fd.gfid}>` : '?';
  }

  async open(op: Op<'open'>) {
    this.remember(op.loc.gfid, op.loc.path);
    return op.forward();
  }

  /** Winds a create; its reply (typed as create's once `op` is narrowed) names the
   * new file, whose path the fd fops that follow then show. */
  private async windCreate(op: Op<'create'>, path: string) {
    const reply = await op.wind();
    if (reply.opRet >= 0) this.remember(reply.buf.gfid, path);
    return reply;
  }

  private async record(op: AnyOp<Mutating>) {
    const path = this.where(op);
    const { uid, gid, pid } = op.caller;
    const extra: Record<string, unknown> = {};
    if (op.fop === 'rename' || op.fop === 'link') extra.to = op.newloc.path;
    if (op.fop === 'writev') Object.assign(extra, { offset: op.offset, bytes: op.data.length });
    if (op.fop === 'setattr' || op.fop === 'fsetattr') extra.mode = (op.stbuf.mode & 0o7777).toString(8);
    const reply = op.fop === 'create' ? await this.windCreate(op, path) : await op.wind();
    if (!this.options.exclude || !path.startsWith(String(this.options.exclude))) {
      const result = reply.opRet < 0 ? errnoName(reply.opErrno) : 'ok';
      this.out.write(JSON.stringify({ time: new Date().toISOString(), fop: op.fop, path, uid, gid, pid, result, ...extra }) + '\n');
      this.written++;
    }
    return reply;
  }

  static {
    this.handleAll(MUTATING, function (op) { return this.record(op); });
  }

  dump() { return { records: this.written }; }
  fini() { return new Promise<void>((resolve) => this.out.end(resolve)); }
}
