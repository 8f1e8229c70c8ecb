/**
 * GlusterFS volfiles: parse one into a graph, splice a translator in (or out) at a
 * chosen position, and print it back. Everything the edit does not touch comes back
 * byte for byte (comments, blank lines, indentation, option order): an edit is a
 * splice of the original text, and the result is parsed again to check it.
 *
 * The grammar is GlusterFS's own (libglusterfs/src/graph.l and graph.y, 10.3):
 * `volume NAME`, then `type T` first, `option KEY VALUE` lines, at most one
 * `subvolumes A B ...` line, then `end-volume`. Keywords are lower case. A word is a
 * run of characters other than blanks, `"` and `\`, or a double-quoted string
 * (backslash escapes; no newline). `#` at the start of a word comments out the rest
 * of the line. A subvolume must be defined before it is used, and the graph's top
 * (what a mount uses) is the last volume of the file.
 * @packageDocumentation
 */

/** Thrown for text that is not a valid volfile, and for edits that make no sense. */
export class VolfileError extends Error {
  constructor(message: string) { super(message); this.name = 'VolfileError'; }
}

/** A word of the volfile and where it is in the text (`end` is exclusive). */
export interface Word { value: string; start: number; end: number; line: number; }

/** One `volume ... end-volume` block. */
export interface VolumeBlock {
  name: string;
  type: string;
  /** `option` lines in file order (a key may repeat; GlusterFS keeps the last). */
  options: Array<{ key: string; value: string }>;
  /** names from the `subvolumes` line, in order (children). */
  subvolumes: string[];
  /** text offsets: the block runs from its `volume` keyword to the end of `end-volume`. */
  start: number; end: number;
  /** 1-based line of the `volume` keyword. */
  line: number;
  /** the words of the `subvolumes` line (for in-place edits). */
  subvolumeWords: Word[];
}

/** Where {@link Volfile.insert} puts a new translator. */
export type Position =
  | { below: string }   // directly under this volume: between it and its (single) child
  | { above: string }   // directly over this volume: every parent of it points at the new one
  | { top: true }       // below the graph's top volume (the one a mount uses)
  | { default: true; volname?: string }; // below the io-stats volume named after the volume (fuse -> io-stats -> new -> ...)

/** A translator to insert. */
export interface XlatorBlock {
  name: string;
  type: string;
  /** options in the order they are printed. */
  options?: Array<[string, string]> | Record<string, string>;
}

const isKeywordEnd = (c: string | undefined) => c === undefined || /[ \t\r\n"\\]/.test(c);

interface Tok { kind: 'volume' | 'type' | 'option' | 'subvolumes' | 'end-volume' | 'word'; value: string; start: number; end: number; line: number; }

/** GlusterFS's lexer: keywords only when the whole word is one (flex's longest match). */
function lex(text: string, source: string): Tok[] {
  const toks: Tok[] = [];
  let i = 0, line = 1;
  const n = text.length;
  while (i < n) {
    const c = text[i];
    if (c === '\n') { line++; i++; continue; }
    if (c === ' ' || c === '\t' || c === '\r') { i++; continue; }
    if (c === '#') { while (i < n && text[i] !== '\n') i++; continue; }
    if (c === '"') {
      const start = i, startLine = line;
      let value = '';
      i++;
      for (;;) {
        if (i >= n || text[i] === '\n') throw new VolfileError(`${source}:${startLine}: unterminated quoted string`);
        if (text[i] === '\\') {
          if (i + 1 >= n || text[i + 1] === '\n') throw new VolfileError(`${source}:${startLine}: unterminated quoted string`);
          value += text[i + 1]; i += 2; continue;
        }
        if (text[i] === '"') { i++; break; }
        value += text[i++];
      }
      toks.push({ kind: 'word', value, start, end: i, line: startLine });
      continue;
    }
    if (c === '\\') throw new VolfileError(`${source}:${line}: unexpected backslash`);
    const start = i;
    while (i < n && !isKeywordEnd(text[i])) i++;
    const w = text.slice(start, i);
    let kind: Tok['kind'] = 'word';
    if (w === 'volume') kind = 'volume';
    else if (w === 'type') kind = 'type';
    else if (w === 'option') kind = 'option';
    else if (w === 'end-volume') kind = 'end-volume';
    else if (w === 'subvolumes' || w === 'subvolumeS') kind = 'subvolumes';
    toks.push({ kind, value: w, start, end: i, line });
  }
  return toks;
}

function parseBlocks(text: string, source: string): VolumeBlock[] {
  const toks = lex(text, source);
  const blocks: VolumeBlock[] = [];
  const byName = new Map<string, VolumeBlock>();
  let p = 0;
  const where = (t: Tok | undefined) => `${source}:${t ? t.line : text.split('\n').length}`;
  const word = (what: string, after: Tok): Tok => {
    const t = toks[p];
    if (!t || t.kind !== 'word') {
      throw new VolfileError(`${where(after)}: ${what} expected after '${after.value}'` +
        (t ? `, found '${t.value}'` : ', found the end of the file') +
        (t && t.kind !== 'word' ? ` (a keyword cannot be used as a word; quote it: "${t.value}")` : ''));
    }
    p++;
    return t;
  };
  while (p < toks.length) {
    const head = toks[p++];
    if (head.kind !== 'volume') throw new VolfileError(`${where(head)}: 'volume' expected, found '${head.value}'`);
    const nameTok = word('a volume name', head);
    const name = nameTok.value;
    if (byName.has(name)) throw new VolfileError(`${where(nameTok)}: volume '${name}' is defined twice (first at line ${byName.get(name)!.line})`);
    const b: VolumeBlock = { name, type: '', options: [], subvolumes: [], start: head.start, end: head.end, line: head.line, subvolumeWords: [] };
    let typeSeen = false, subsSeen = false, first = true;
    for (;;) {
      const t = toks[p++];
      if (!t) throw new VolfileError(`${where(undefined)}: volume '${name}' (line ${head.line}) has no 'end-volume'`);
      if (t.kind === 'end-volume') { b.end = t.end; break; }
      if (t.kind === 'type') {
        if (!first) throw new VolfileError(`${where(t)}: volume '${name}': 'type' must be the first line of the volume`);
        b.type = word('a translator type', t).value;
        typeSeen = true;
      } else if (t.kind === 'option') {
        const k = word('an option name', t);
        const v = word(`a value for option '${k.value}'`, k);
        b.options.push({ key: k.value, value: v.value });
      } else if (t.kind === 'subvolumes') {
        if (subsSeen) throw new VolfileError(`${where(t)}: volume '${name}' has a second 'subvolumes' line`);
        subsSeen = true;
        while (toks[p] && toks[p].kind === 'word') {
          const s = toks[p++];
          if (s.value === name) throw new VolfileError(`${where(s)}: volume '${name}' has itself as subvolume`);
          if (!byName.has(s.value)) throw new VolfileError(`${where(s)}: volume '${name}': subvolume '${s.value}' is not defined before it is used`);
          if (b.subvolumes.includes(s.value)) throw new VolfileError(`${where(s)}: volume '${name}': subvolume '${s.value}' is listed twice`);
          b.subvolumes.push(s.value);
          b.subvolumeWords.push({ value: s.value, start: s.start, end: s.end, line: s.line });
        }
        if (!b.subvolumes.length) throw new VolfileError(`${where(t)}: volume '${name}': 'subvolumes' needs at least one name`);
      } else if (t.kind === 'volume') {
        throw new VolfileError(`${where(t)}: 'volume' inside volume '${name}' (line ${head.line}): 'end-volume' missing`);
      } else {
        throw new VolfileError(`${where(t)}: volume '${name}': unexpected '${t.value}' (expected type, option, subvolumes or end-volume)`);
      }
      first = false;
    }
    if (!typeSeen) throw new VolfileError(`${source}:${head.line}: volume '${name}' has no 'type'`);
    blocks.push(b);
    byName.set(name, b);
  }
  if (!blocks.length) throw new VolfileError(`${source}: no volume in the file (not a volfile?)`);
  return blocks;
}

/** A word as the volfile needs it: bare when it can be, else quoted. */
export function quoteWord(s: string): string {
  if (/[\n]/.test(s)) throw new VolfileError(`a volfile word cannot contain a newline: ${JSON.stringify(s)}`);
  const keyword = ['volume', 'type', 'option', 'end-volume', 'subvolumes', 'subvolumeS'].includes(s);
  if (s !== '' && !keyword && !/[ \t\r"\\]/.test(s) && s[0] !== '#') return s;
  return `"${s.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

/** A parsed volfile. Immutable: edits return a new one. */
export class Volfile {
  readonly volumes: readonly VolumeBlock[];
  private readonly byName: Map<string, VolumeBlock>;

  private constructor(readonly text: string, readonly source: string) {
    this.volumes = parseBlocks(text, source);
    this.byName = new Map(this.volumes.map((v) => [v.name, v]));
  }

  /** Parse `text`; `source` names it in error messages. Throws {@link VolfileError}. */
  static parse(text: string, source = 'volfile'): Volfile { return new Volfile(text, source); }

  /** The graph's top: the last volume of the file. */
  get top(): VolumeBlock { return this.volumes[this.volumes.length - 1]; }

  get(name: string): VolumeBlock | undefined { return this.byName.get(name); }

  /** A volume by name, or an error that lists the names there are. */
  need(name: string): VolumeBlock {
    const v = this.byName.get(name);
    if (!v) throw new VolfileError(`no volume named '${name}' in ${this.source} (volumes: ${this.volumes.map((x) => x.name).join(', ')})`);
    return v;
  }

  /** Volumes that list `name` as a subvolume. */
  parentsOf(name: string): VolumeBlock[] { return this.volumes.filter((v) => v.subvolumes.includes(name)); }

  /** The volume a default insertion goes below: the top volume if it is debug/io-stats (named
   * `volname` when given), else the io-stats volume named `volname`. */
  defaultAnchor(volname?: string): VolumeBlock {
    const top = this.top;
    if (volname !== undefined) {
      const v = this.get(volname);
      if (v && v.type === 'debug/io-stats') return v;
      throw new VolfileError(`no debug/io-stats volume named '${volname}' in ${this.source}` +
        ` (the top volume is '${top.name}', ${top.type}); choose a position with --below, --above or --top`);
    }
    if (top.type === 'debug/io-stats') return top;
    throw new VolfileError(`the top volume of ${this.source} is '${top.name}' (${top.type}), not debug/io-stats;` +
      ' choose a position with --below, --above or --top');
  }

  /** The line ending the file uses. */
  private get eol(): string { return /\r\n/.test(this.text) ? '\r\n' : '\n'; }

  /** Start of the line holding offset `at`, and that line's indentation. */
  private lineStart(at: number): number {
    const i = this.text.lastIndexOf('\n', at - 1);
    return i + 1;
  }

  private render(x: XlatorBlock, child: string): string {
    const eol = this.eol;
    const opts = Array.isArray(x.options) ? x.options : Object.entries(x.options ?? {});
    const lines = [`volume ${quoteWord(x.name)}`, `    type ${quoteWord(x.type)}`];
    for (const [k, v] of opts) {
      if (!k || /[\s"\\]/.test(k) || k[0] === '#') throw new VolfileError(`invalid option name ${JSON.stringify(k)}`);
      lines.push(`    option ${quoteWord(k)} ${quoteWord(String(v))}`);
    }
    lines.push(`    subvolumes ${quoteWord(child)}`, 'end-volume');
    return lines.join(eol) + eol + eol;
  }

  /** The volume {@link insert} would put a new translator below (its parent), and the child. */
  resolve(pos: Position): { parents: VolumeBlock[]; child: VolumeBlock } {
    let below: VolumeBlock;
    if ('above' in pos) {
      const child = this.need(pos.above);
      return { parents: this.parentsOf(child.name), child };
    }
    if ('below' in pos) below = this.need(pos.below);
    else if ('top' in pos) below = this.top;
    else below = this.defaultAnchor(pos.volname);
    if (below.subvolumes.length !== 1) {
      throw new VolfileError(below.subvolumes.length === 0
        ? `volume '${below.name}' has no subvolumes: nothing to insert below it (use --above ${below.name})`
        : `volume '${below.name}' has ${below.subvolumes.length} subvolumes (${below.subvolumes.join(', ')}); a translator below it ` +
          `would need one child: use --above <one of them>`);
    }
    return { parents: [below], child: this.need(below.subvolumes[0]) };
  }

  /**
   * A new volfile with `x` spliced in at `pos`. The new block goes right before its
   * (first) parent, or right after its child when it becomes the new top, and the
   * parents' `subvolumes` words are rewritten in place. Throws if the name is taken.
   */
  insert(x: XlatorBlock, pos: Position): Volfile {
    if (!x.name || /[\s"\\]/.test(x.name) || x.name[0] === '#') throw new VolfileError(`invalid volume name ${JSON.stringify(x.name)}`);
    if (this.get(x.name)) throw new VolfileError(`a volume named '${x.name}' is already in ${this.source}`);
    const { parents, child } = this.resolve(pos);
    const edits: Array<{ start: number; end: number; text: string }> = [];
    const block = this.render(x, child.name);
    if (parents.length) {
      const first = parents.reduce((a, b) => (a.start < b.start ? a : b));
      const at = this.lineStart(first.start);
      if (/\S/.test(this.text.slice(at, first.start))) edits.push({ start: first.start, end: first.start, text: this.eol + block });
      else edits.push({ start: at, end: at, text: block });
      for (const p of parents) {
        const w = p.subvolumeWords.find((s) => s.value === child.name)!;
        edits.push({ start: w.start, end: w.end, text: quoteWord(x.name) });
      }
    } else {
      // the new top: after the child's block (which is the last one), on a line of its own
      const after = child.end;
      const nl = this.text.indexOf('\n', after);
      const at = nl < 0 ? this.text.length : nl + 1;
      const sep = nl < 0 ? this.eol + this.eol : this.eol;
      edits.push({ start: at, end: at, text: sep + block.replace(/(\r?\n)\1$/, '$1') });
    }
    return this.apply(edits);
  }

  /**
   * A new volfile without volume `name`: its parents point at its single child
   * instead, and its block (with the blank lines after it) is cut out. The top cannot
   * be removed unless it has exactly one child, which then becomes the top.
   */
  remove(name: string): Volfile {
    const v = this.need(name);
    if (v.subvolumes.length !== 1) {
      throw new VolfileError(`volume '${name}' has ${v.subvolumes.length} subvolumes; only a volume with exactly one child can be cut out`);
    }
    const child = v.subvolumes[0];
    const edits: Array<{ start: number; end: number; text: string }> = [];
    for (const p of this.parentsOf(name)) {
      if (p.subvolumes.includes(child)) throw new VolfileError(`cannot cut '${name}' out: '${p.name}' already lists '${child}'`);
      const w = p.subvolumeWords.find((s) => s.value === name)!;
      edits.push({ start: w.start, end: w.end, text: quoteWord(child) });
    }
    // the block's whole lines, and the blank lines after it
    let start = this.lineStart(v.start);
    if (/\S/.test(this.text.slice(start, v.start))) start = v.start;
    const rest = /^[ \t]*(\r?\n([ \t]*\r?\n)*)?/.exec(this.text.slice(v.end))!;
    edits.push({ start, end: v.end + rest[0].length, text: '' });
    return this.apply(edits);
  }

  private apply(edits: Array<{ start: number; end: number; text: string }>): Volfile {
    edits.sort((a, b) => b.start - a.start || b.end - a.end);
    let out = this.text;
    for (const e of edits) out = out.slice(0, e.start) + e.text + out.slice(e.end);
    return Volfile.parse(out, this.source);
  }

  toString(): string { return this.text; }
}

/** Position from CLI-style flags (at most one of them). */
export function positionFrom(flags: { below?: string; above?: string; top?: boolean; volname?: string }): Position {
  const n = [flags.below !== undefined, flags.above !== undefined, !!flags.top].filter(Boolean).length;
  if (n > 1) throw new VolfileError('give at most one of --below, --above, --top');
  if (flags.below !== undefined) return { below: flags.below };
  if (flags.above !== undefined) return { above: flags.above };
  if (flags.top) return { top: true };
  return { default: true, volname: flags.volname };
}

/** Describe a position for messages. */
export function describePosition(p: Position): string {
  if ('below' in p) return `below ${p.below}`;
  if ('above' in p) return `above ${p.above}`;
  if ('top' in p) return 'below the top volume';
  return p.volname ? `below the io-stats volume ${p.volname}` : 'below the top io-stats volume';
}
