// tag: every new file gets an xattr naming who made it (`user.created-by`,
// "uid:gid"), set right after its create by an fsetxattr the translator
// originates on the new fd; every `interval` seconds it also stats `watch`
// (a path, resolved by lookups from the root) and logs its size.
// Shows originating fops: this.child.<fop>() from a handler (on the op's call
// stack: the caller's credentials) and from a timer (the daemon's).
//
//   glujs dev examples/tag.ts --option watch=/ --option interval=10
import { Translator, type Op } from 'glujs';

export default class Tag extends Translator {
  static options = {
    watch: { type: 'string', default: '/' },
    interval: { type: 'time', default: 10 },
  } as const;
  timer?: NodeJS.Timeout;

  async create(op: Op<'create'>) {
    const reply = await op.wind();
    if (reply.opRet < 0) return reply;
    const who = Buffer.from(`${op.caller.uid}:${op.caller.gid}`); // a Buffer: exactly these bytes
    const set = await this.child.fsetxattr({ fd: reply.fd, dict: { 'user.created-by': who } });
    if (set.opRet < 0) this.log.warn(`cannot tag ${op.loc.path}: errno ${set.opErrno}`);
    return reply;
  }

  init() {
    this.timer = setInterval(() => {
      this.child.stat({ loc: { path: String(this.options.watch) } }).then(
        (r) => this.log.info(r.opRet < 0 ? `stat ${this.options.watch}: errno ${r.opErrno}` : `${this.options.watch}: ${r.buf.size} bytes`),
        (e: Error) => this.log.info(`stat ${this.options.watch}: ${e.message}`));
    }, Number(this.options.interval) * 1000);
    this.timer.unref();
  }
  fini() { clearInterval(this.timer); }
}
