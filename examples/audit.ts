// audit: an audit trail of every change to the volume. One JSON line per
// operation that changes something (create, write, rename, unlink, chmod,
// setxattr, ...): when, which fop, the path, who (uid, gid, pid) and how it
// ended. Written to the file named by the `file` option; paths under
// `exclude` (a prefix) are not logged. Reads are not logged: they change nothing.
import fs from 'node:fs';
import { Translator, errnoName, type Op, type FopName, type Loc } from 'glujs';

type Mutating = 'create' | 'mknod' | 'mkdir' | 'unlink' | 'rmdir' | 'symlink' | 'rename' | 'link'
  | 'truncate' | 'ftruncate' | 'writev' | 'setattr' | 'fsetattr' | 'setxattr' | 'fsetxattr'
  | 'removexattr' | 'fremovexattr' | 'fallocate' | 'discard' | 'zerofill';
const MUTATING: Mutating[] = ['create', 'mknod', 'mkdir', 'unlink', 'rmdir', 'symlink', 'rename', 'link',
  'truncate', 'ftruncate', 'writev', 'setattr', 'fsetattr', 'setxattr', 'fsetxattr', 'removexattr',
  'fremovexattr', 'fallocate', 'discard', 'zerofill'];

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
  private where(op: Record<string, unknown>): string {
    const loc = (op.loc ?? op.oldloc) as Loc | undefined;
    if (loc) return loc.path ?? `<gfid:${loc.gfid}>`;
    const fd = op.fd as { gfid: string } | undefined;
    return fd ? this.paths.get(fd.gfid) ?? `<gfid:${fd.gfid}>` : '?';
  }

  async open(op: Op<'open'>) {
    this.remember(op.loc.gfid, op.loc.path);
    return op.forward();
  }

  async record<F extends FopName>(fop: F, op: Op<F>) {
    const a = op as unknown as Record<string, unknown>;
    const path = this.where(a);
    const { uid, gid, pid } = op.caller;
    const extra: Record<string, unknown> = {};
    if (fop === 'rename' || fop === 'link') extra.to = (a.newloc as Loc).path;
    if (fop === 'writev') Object.assign(extra, { offset: a.offset, bytes: (a.data as Buffer).length });
    if (fop === 'setattr' || fop === 'fsetattr') extra.mode = ((a.stbuf as { mode: number }).mode & 0o7777).toString(8);
    const reply = (await op.wind()) as unknown as { opRet: number; opErrno: number; buf?: { gfid: string } };
    if (fop === 'create' && reply.opRet >= 0) this.remember(reply.buf!.gfid, path);
    if (!this.options.exclude || !path.startsWith(String(this.options.exclude))) {
      const result = reply.opRet < 0 ? errnoName(reply.opErrno) : 'ok';
      this.out.write(JSON.stringify({ time: new Date().toISOString(), fop, path, uid, gid, pid, result, ...extra }) + '\n');
      this.written++;
    }
    return reply as any;
  }

  dump() { return { records: this.written }; }
  fini() { return new Promise<void>((resolve) => this.out.end(resolve)); }
}

for (const fop of MUTATING)
  (Audit.prototype as any)[fop] = function (this: Audit, op: Op<typeof fop>) { return this.record(fop, op); };
