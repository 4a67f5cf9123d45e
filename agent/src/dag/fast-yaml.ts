/**
 * A fast path for the YAML that DAG files are made of: block mappings and sequences, one-line flow
 * collections, plain and quoted one-line scalars, literal block scalars and comments. It builds the
 * same AST the `yaml` package builds (YAMLMap, YAMLSeq, Pair, Scalar with the same `range[0]` and
 * `range[1]`), about an order of magnitude faster — the `yaml` parser alone took ~2 s for the
 * 5,000-task benchmark file on the 2-core machine.
 *
 * It gives up (returns undefined) on anything else — anchors, aliases, tags, directives, several
 * documents, tabs, CRLF, multi-line plain or quoted scalars, folded or indented block scalars,
 * escapes, empty values, complex keys, syntax errors — and the caller parses with `yaml` instead, so
 * every diagnostic about YAML itself still comes from `yaml`. test/unit/dag/fast-yaml.test.ts
 * checks that both agree (data and ranges) wherever the fast path answers.
 */
import { Document, Pair, Scalar, YAMLMap, YAMLSeq, type Node } from 'yaml';

class GiveUp extends Error {}

const giveUp = (): never => {
  throw new GiveUp();
};

/** The document, or undefined when the text uses YAML this fast path does not handle. */
export function parseSimpleYaml(text: string): Document.Parsed | undefined {
  if (text.includes('\r') || text.includes('\t')) return undefined;
  try {
    const parser = new SimpleParser(text);
    return simpleDocument(text, parser.document());
  } catch (error) {
    if (error instanceof GiveUp) return undefined;
    throw error;
  }
}

/**
 * One entry of a block mapping, re-parsed in place: the key at `keyStart` (the first content of its
 * line, at column `indent`) and its value, as the whole-text parse would build them when it reaches
 * that key. `next` is where the following content starts (after blank and comment lines). Undefined
 * when the fast path would give up on the entry. The caller checks that the text around it is the
 * text the rest of the tree was parsed from (agent/src/dag/incremental.ts).
 */
export function parseSimpleMapEntry(text: string, keyStart: number, indent: number): { readonly pair: Pair; readonly next: number } | undefined {
  try {
    return new SimpleParser(text).entry(keyStart, indent);
  } catch (error) {
    if (error instanceof GiveUp) return undefined;
    throw error;
  }
}

/** A document around contents the fast path built (its range is the whole text, as yaml sets it). */
export function simpleDocument(text: string, contents: Node): Document.Parsed {
  const document = new Document() as unknown as Document.Parsed;
  document.contents = contents as unknown as Document.Parsed['contents'];
  document.range = [0, text.length, text.length];
  return document;
}

// yaml's constructors define the node-type symbol with Object.defineProperty on every node, which
// was ~5% of a full validation of the benchmark file; a node made from a template (never changed)
// inherits it instead. Such nodes are still instances of yaml's classes (isScalar, instanceof…).
const SCALAR_TEMPLATE = new Scalar(null);
const PAIR_TEMPLATE = new Pair(null);
const MAP_TEMPLATE = new YAMLMap();
const SEQ_TEMPLATE = new YAMLSeq();

function newScalar(value: unknown): Scalar {
  const scalar = Object.create(SCALAR_TEMPLATE) as Scalar;
  scalar.value = value;
  return scalar;
}

function newPair(key: Node, value: Node): Pair {
  const pair = Object.create(PAIR_TEMPLATE) as Pair;
  pair.key = key;
  pair.value = value;
  return pair;
}

function newMap(): YAMLMap {
  const map = Object.create(MAP_TEMPLATE) as YAMLMap;
  map.items = [];
  return map;
}

function newSeq(): YAMLSeq {
  const seq = Object.create(SEQ_TEMPLATE) as YAMLSeq;
  seq.items = [];
  return seq;
}

const SPACE = 32;
const NEWLINE = 10;
const HASH = 35;
const COLON = 58;
const DASH = 45;
const COMMA = 44;
const QUOTE = 34;
const APOSTROPHE = 39;

/** What a plain scalar's loop looks at; every other character just extends the scalar. */
const PLAIN_STOPS = new Uint8Array(128);
for (const c of '\n#:,[]{} ') PLAIN_STOPS[c.charCodeAt(0)] = 1;

/** Characters that start something other than a plain scalar (flow, quotes, anchors, tags, blocks…). */
const INDICATORS = new Set('[]{},#&*!|>\'"%@`?:-'.split('').map((c) => c.charCodeAt(0)));

class SimpleParser {
  private pos = 0;
  private lineStartAt = -1;
  private lineStartOf = 0;

  constructor(private readonly text: string) {}

  document(): Node {
    this.skipBlankLines();
    if (this.pos >= this.text.length) giveUp();
    const indent = this.pos - this.lineStart(this.pos);
    if (indent !== 0) giveUp();
    if (this.text.startsWith('---', this.pos) || this.text.startsWith('%', this.pos)) giveUp();
    const root = this.block(0);
    this.skipBlankLines();
    if (this.pos < this.text.length) giveUp();
    return root;
  }

  /** One iteration of blockMap's loop, from a key the loop would reach at `keyStart`. */
  entry(keyStart: number, indent: number): { pair: Pair; next: number } {
    if (indent <= 0 || keyStart - this.lineStart(keyStart) !== indent) giveUp();
    const first = this.text.charCodeAt(keyStart);
    if (first === SPACE || first === NEWLINE || first === HASH || Number.isNaN(first) || this.isSequenceEntry(keyStart)) giveUp();
    this.pos = keyStart;
    const key = this.key();
    if (this.text.charCodeAt(this.pos) !== COLON) giveUp();
    this.pos++;
    const pair = newPair(key, this.valueAfterIndicator(indent, true));
    this.skipBlankLines();
    return { pair, next: this.pos };
  }

  /** A block collection starting at `pos`, whose lines are indented by `indent`. */
  private block(indent: number): Node {
    return this.isSequenceEntry(this.pos) ? this.blockSequence(indent) : this.blockMap(indent);
  }

  private blockMap(indent: number): YAMLMap {
    const map = newMap();
    const start = this.pos;
    for (;;) {
      const key = this.key();
      if (this.text.charCodeAt(this.pos) !== COLON) giveUp();
      this.pos++;
      const value = this.valueAfterIndicator(indent, true);
      map.items.push(newPair(key, value));
      this.skipBlankLines();
      if (this.pos >= this.text.length) break;
      const nextIndent = this.pos - this.lineStart(this.pos);
      if (nextIndent < indent) break;
      if (nextIndent > indent || this.isSequenceEntry(this.pos)) giveUp();
    }
    const end = this.endOfCollection();
    map.range = [start, end, end];
    return map;
  }

  private blockSequence(indent: number): YAMLSeq {
    const seq = newSeq();
    const start = this.pos;
    for (;;) {
      this.pos++; // the dash
      seq.items.push(this.valueAfterIndicator(indent, false));
      this.skipBlankLines();
      if (this.pos >= this.text.length) break;
      const nextIndent = this.pos - this.lineStart(this.pos);
      if (nextIndent < indent) break;
      if (nextIndent > indent || !this.isSequenceEntry(this.pos)) {
        // `key:\n- a\nnext: b` — a sequence at its parent map's indent ends where a key starts.
        if (nextIndent === indent && !this.isSequenceEntry(this.pos)) break;
        giveUp();
      }
    }
    const end = this.endOfCollection();
    seq.range = [start, end, end];
    return seq;
  }

  /**
   * The value after `key:` or `-` at `pos`: on the same line (a scalar, a flow collection, a block
   * scalar, or — after `-` — a compact mapping), or a block on the following lines.
   */
  private valueAfterIndicator(indent: number, afterKey: boolean): Node {
    const code = this.text.charCodeAt(this.pos);
    if (code !== SPACE && code !== NEWLINE && !Number.isNaN(code)) giveUp();
    this.skipSpaces();
    const here = this.text.charCodeAt(this.pos);
    if (here === NEWLINE || here === HASH || Number.isNaN(here)) {
      this.skipComment();
      this.skipBlankLines();
      const childIndent = this.pos - this.lineStart(this.pos);
      if (this.pos >= this.text.length) giveUp();
      if (childIndent > indent) return this.block(childIndent);
      if (afterKey && childIndent === indent && this.isSequenceEntry(this.pos)) return this.blockSequence(indent);
      return giveUp();
    }
    if (!afterKey && (this.isSequenceEntry(this.pos) || this.looksLikeKey())) {
      const column = this.pos - this.lineStart(this.pos);
      return this.isSequenceEntry(this.pos) ? this.blockSequence(column) : this.blockMap(column);
    }
    if (here === 124) return this.literalBlock(indent); // |
    const value = here === 91 || here === 123 ? this.flowCollection() : this.scalar(false);
    this.endLine(value);
    return value;
  }

  // ---- scalars ----------------------------------------------------------------------------------

  private key(): Scalar {
    const code = this.text.charCodeAt(this.pos);
    const key = code === QUOTE || code === APOSTROPHE ? this.quoted() : this.plain(false, true);
    return key;
  }

  private scalar(flow: boolean): Scalar {
    const code = this.text.charCodeAt(this.pos);
    return code === QUOTE || code === APOSTROPHE ? this.quoted() : this.plain(flow, false);
  }

  private quoted(): Scalar {
    const start = this.pos;
    const quote = this.text.charCodeAt(start);
    let value = '';
    let index = start + 1;
    for (;;) {
      const next = this.text.indexOf(String.fromCharCode(quote), index);
      const newline = this.text.indexOf('\n', index);
      if (next === -1 || (newline !== -1 && newline < next)) return giveUp();
      value += this.text.slice(index, next);
      if (quote === APOSTROPHE && this.text.charCodeAt(next + 1) === APOSTROPHE) {
        value += "'";
        index = next + 2;
        continue;
      }
      index = next + 1;
      break;
    }
    if (quote === QUOTE && value.includes('\\')) giveUp();
    const scalar = newScalar(value);
    scalar.type = quote === QUOTE ? Scalar.QUOTE_DOUBLE : Scalar.QUOTE_SINGLE;
    scalar.range = [start, index, index];
    this.pos = index;
    return scalar;
  }

  /** A plain scalar on one line; in flow context it also ends at `,` `]` `}`; a key ends at `: `. */
  private plain(flow: boolean, isKey: boolean): Scalar {
    const start = this.pos;
    const first = this.text.charCodeAt(start);
    if (INDICATORS.has(first)) {
      const second = this.text.charCodeAt(start + 1);
      const mayStart = (first === DASH || first === COLON || first === 63) && !Number.isNaN(second) && second !== SPACE && second !== NEWLINE;
      if (!mayStart) giveUp();
    }
    let end = start;
    const length = this.text.length;
    for (let index = start; index < length; index++) {
      const code = this.text.charCodeAt(index);
      if (code >= 128 || PLAIN_STOPS[code] === 0) {
        end = index + 1;
        continue;
      }
      if (code === NEWLINE) break;
      if (code === HASH && this.text.charCodeAt(index - 1) === SPACE) break;
      if (code === COLON) {
        const after = this.text.charCodeAt(index + 1);
        if (after === SPACE || after === NEWLINE || Number.isNaN(after) || (flow && (after === COMMA || after === 93 || after === 125))) {
          if (isKey || flow) break;
          giveUp(); // `a: b: c` is an error yaml should explain
        }
      }
      if (flow && (code === COMMA || code === 91 || code === 93 || code === 123 || code === 125)) {
        if (code === 91 || code === 123) giveUp();
        break;
      }
      if (code !== SPACE) end = index + 1;
    }
    if (end === start) giveUp();
    const source = this.text.slice(start, end);
    const scalar = newScalar(resolvePlain(source));
    scalar.type = Scalar.PLAIN;
    scalar.range = [start, end, end];
    this.pos = end;
    return scalar;
  }

  /** `|` or `|-` followed by lines indented deeper than the parent. */
  private literalBlock(parentIndent: number): Scalar {
    const start = this.pos;
    this.pos++;
    let strip = false;
    if (this.text.charCodeAt(this.pos) === DASH) {
      strip = true;
      this.pos++;
    }
    this.skipSpaces();
    this.skipComment();
    if (this.text.charCodeAt(this.pos) !== NEWLINE) giveUp();
    this.pos++;
    const lines: string[] = [];
    let blockIndent = -1;
    let end = this.pos;
    while (this.pos < this.text.length) {
      const lineEnd = this.lineEnd(this.pos);
      const line = this.text.slice(this.pos, lineEnd);
      const content = line.trimStart();
      if (content === '') {
        if (line.length > 0) giveUp(); // whitespace-only lines: leave their subtleties to yaml
        lines.push('');
      } else {
        const lineIndent = line.length - content.length;
        if (blockIndent === -1) blockIndent = lineIndent;
        if (lineIndent < blockIndent) break;
        if (blockIndent <= parentIndent) giveUp();
        lines.push(line.slice(blockIndent));
        end = Math.min(lineEnd + 1, this.text.length);
      }
      this.pos = Math.min(lineEnd + 1, this.text.length);
      if (lineEnd >= this.text.length) break;
    }
    if (blockIndent === -1) giveUp();
    while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
    this.pos = end;
    const body = lines.join('\n');
    const endsWithNewline = this.text.charCodeAt(end - 1) === NEWLINE;
    const scalar = newScalar(strip ? body : endsWithNewline ? `${body}\n` : body);
    scalar.type = Scalar.BLOCK_LITERAL;
    scalar.range = [start, end, end];
    // The block consumed its line ends; the caller's skipBlankLines starts on the next line.
    return scalar;
  }

  // ---- flow collections (one line) --------------------------------------------------------------

  private flowCollection(): YAMLSeq | YAMLMap {
    const start = this.pos;
    const isSeq = this.text.charCodeAt(start) === 91;
    const close = isSeq ? 93 : 125;
    const collection = isSeq ? newSeq() : newMap();
    collection.flow = true;
    this.pos++;
    for (;;) {
      this.skipSpaces();
      const code = this.text.charCodeAt(this.pos);
      if (code === close) {
        this.pos++;
        break;
      }
      if (code === NEWLINE || Number.isNaN(code) || code === HASH) giveUp();
      const item = this.flowItem();
      let last: Node = item;
      if (collection instanceof YAMLSeq) {
        collection.items.push(item);
      } else {
        if (!(item instanceof Scalar)) giveUp();
        this.skipSpaces();
        if (this.text.charCodeAt(this.pos) !== COLON) giveUp();
        this.pos++;
        if (this.text.charCodeAt(this.pos) !== SPACE) giveUp();
        this.skipSpaces();
        last = this.flowItem();
        collection.items.push(newPair(item, last));
      }
      this.skipSpaces();
      // yaml counts the spaces after a flow item (not after a key) into the item's node end.
      if (last.range) last.range[2] = this.pos;
      const separator = this.text.charCodeAt(this.pos);
      if (separator === COMMA) {
        this.pos++;
        this.skipSpaces();
        if (this.text.charCodeAt(this.pos) === close) giveUp(); // a trailing comma: leave it to yaml
      } else if (separator !== close) {
        giveUp();
      }
    }
    collection.range = [start, this.pos, this.pos];
    return collection;
  }

  private flowItem(): Node {
    const code = this.text.charCodeAt(this.pos);
    if (code === 91 || code === 123) return this.flowCollection();
    return this.scalar(true);
  }

  // ---- lines ------------------------------------------------------------------------------------

  /** After a one-line value: only spaces and a comment may follow on its line. */
  private endLine(value: Node): void {
    this.skipSpaces();
    this.skipComment();
    const code = this.text.charCodeAt(this.pos);
    if (code !== NEWLINE && !Number.isNaN(code)) giveUp();
    const lineEnd = Math.min(this.pos + 1, this.text.length);
    if (value.range) value.range[2] = lineEnd;
    this.pos = lineEnd;
    // A deeper-indented line next would continue a plain scalar (or be an error): yaml decides.
    const save = this.pos;
    this.skipBlankLines();
    if (this.pos < this.text.length) {
      const nextIndent = this.pos - this.lineStart(this.pos);
      const valueIndent = value.range ? value.range[0] - this.lineStart(value.range[0]) : 0;
      if (nextIndent > valueIndent && value instanceof Scalar) giveUp();
    }
    this.pos = save;
  }

  private looksLikeKey(): boolean {
    const code = this.text.charCodeAt(this.pos);
    if (code === 91 || code === 123 || code === 124 || code === 62) return false;
    const lineEnd = this.lineEnd(this.pos);
    for (let index = this.pos; index < lineEnd; index++) {
      const here = this.text.charCodeAt(index);
      if (here === HASH && this.text.charCodeAt(index - 1) === SPACE) return false;
      if (here === QUOTE || here === APOSTROPHE) {
        if (index === this.pos) continue;
      }
      if (here === COLON) {
        const after = this.text.charCodeAt(index + 1);
        if (after === SPACE || after === NEWLINE || Number.isNaN(after)) return true;
      }
    }
    return false;
  }

  private isSequenceEntry(at: number): boolean {
    if (this.text.charCodeAt(at) !== DASH) return false;
    const after = this.text.charCodeAt(at + 1);
    return after === SPACE || after === NEWLINE || Number.isNaN(after);
  }

  private skipSpaces(): void {
    while (this.text.charCodeAt(this.pos) === SPACE) this.pos++;
  }

  private skipComment(): void {
    if (this.text.charCodeAt(this.pos) !== HASH) return;
    const before = this.text.charCodeAt(this.pos - 1);
    if (this.pos > 0 && before !== SPACE && before !== NEWLINE) giveUp(); // `[a]#c`: an error yaml explains
    this.pos = this.lineEnd(this.pos);
  }

  /** Moves to the first content character of the next line holding something other than blanks and comments. */
  private skipBlankLines(): void {
    // yaml counts a comment line indented deeper than the next content into the end of the node
    // before it, by rules not worth copying: such text is left to yaml.
    let deepestComment = -1;
    for (;;) {
      let index = this.pos;
      while (this.text.charCodeAt(index) === SPACE) index++;
      const code = this.text.charCodeAt(index);
      if (Number.isNaN(code)) {
        if (deepestComment > 0) giveUp();
        this.pos = this.text.length;
        return;
      }
      if (code === NEWLINE || code === HASH) {
        const lineStart = this.lineStart(index);
        if (code === HASH && this.text.slice(lineStart, index).trim() === '') deepestComment = Math.max(deepestComment, index - lineStart);
        this.pos = Math.min(this.lineEnd(index) + 1, this.text.length);
        continue;
      }
      if (deepestComment > index - this.lineStart(index)) giveUp();
      this.pos = index;
      // A document marker at the start of a line: several documents, or an explicit one.
      if (index === this.lineStart(index) && (this.text.startsWith('---', index) || this.text.startsWith('...', index))) giveUp();
      return;
    }
  }

  /** Where the last collection ends: after its last line's newline, before blank and comment lines. */
  private endOfCollection(): number {
    // pos sits on the next content line (or the end); walk back over blank and comment lines.
    let end = this.pos >= this.text.length ? this.text.length : this.lineStart(this.pos);
    while (end > 0) {
      const previousLineStart = this.lineStart(end - 1);
      const line = this.text.slice(previousLineStart, end - 1).trim();
      if (line !== '' && !line.startsWith('#')) break;
      end = previousLineStart;
    }
    return end;
  }

  private lineStart(at: number): number {
    // The same offset is asked about several times in a row (skipBlankLines, then its caller).
    if (at !== this.lineStartAt) {
      this.lineStartAt = at;
      this.lineStartOf = this.text.lastIndexOf('\n', at - 1) + 1;
    }
    return this.lineStartOf;
  }

  private lineEnd(at: number): number {
    const end = this.text.indexOf('\n', at);
    return end === -1 ? this.text.length : end;
  }
}

const NULL = /^(?:~|[Nn]ull|NULL)?$/;
const BOOL = /^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)$/;
const INT = /^[-+]?[0-9]+$/;
const FLOAT = /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$/;
const OTHER_NUMBERS = /^(?:0o[0-7]+|0x[0-9a-fA-F]+|[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/;

/** First characters of plain scalars that may be something other than a string (null, bool, number). */
const MAY_NOT_BE_STRING = new Uint8Array(128);
for (const c of '~nNtTfF0123456789+-.') MAY_NOT_BE_STRING[c.charCodeAt(0)] = 1;

/** A plain scalar's value under YAML 1.2's core schema (what `yaml` uses by default). */
function resolvePlain(source: string): unknown {
  const first = source.charCodeAt(0);
  if (first < 128 && MAY_NOT_BE_STRING[first] === 0) return source;
  if (NULL.test(source)) return null;
  if (BOOL.test(source)) return source[0] === 't' || source[0] === 'T';
  if (INT.test(source)) {
    const value = Number(source);
    return Number.isSafeInteger(value) ? value : giveUp();
  }
  if (FLOAT.test(source)) return Number.parseFloat(source);
  if (OTHER_NUMBERS.test(source)) giveUp();
  return source;
}
