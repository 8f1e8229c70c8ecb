// Benchmark config B: every lookup goes through JS, and so does its reply.
import { Translator, type Op } from 'glujs';

export default class LookupWind extends Translator {
  async lookup(op: Op<'lookup'>) {
    return op.wind();
  }
}
