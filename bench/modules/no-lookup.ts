// Benchmark config D: glujs is loaded, but lookups never reach JS (only create
// has a handler), so they should cost exactly what they cost without glujs.
import { Translator, type Op } from 'glujs';

export default class NoLookup extends Translator {
  async create(op: Op<'create'>) {
    return op.wind();
  }
}
