// hello: the smallest useful translator. It logs every lookup and the reply
// that comes back from the child, and passes both through unchanged. Shows a
// handler: wind the op, await the child's reply, return it.
//
//   glujs dev examples/hello.ts
import { Translator, type Op } from 'glujs';

export default class Hello extends Translator {
  async lookup(op: Op<'lookup'>) {
    this.log.info(`lookup ${op.loc.path}`);
    const reply = await op.wind(); // to the first child; resolves to its reply
    this.log.info(`lookup ${op.loc.path} -> ${reply.opRet}/${reply.opErrno}`);
    return reply; // what the handler returns is unwound upward
  }
}
