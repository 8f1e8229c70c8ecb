// Benchmark config C: every lookup reaches JS, which forwards it; the reply
// goes up without returning to JS.
import { Translator, type Op } from 'glujs';

export default class LookupForward extends Translator {
  async lookup(op: Op<'lookup'>) {
    return op.forward();
  }
}
