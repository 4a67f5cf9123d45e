/**
 * A DAG file's text parsed with positions: the `yaml` package's AST (every node keeps its source
 * offsets), offset ↔ LSP position conversion, "which node is at this offset", and the problems the
 * YAML layer itself finds (syntax errors, duplicate keys, input too large or too deeply nested).
 *
 * Offsets are UTF-16 code unit indexes into the text (JavaScript string indexes); positions are
 * 0-based line and UTF-16 column, as LSP wants them.
 */
import {
  isAlias,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  parseDocument,
  type Document,
  type Node,
  type Pair,
  type YAMLError,
} from 'yaml';
import { parseSimpleYaml } from './fast-yaml';
import type { DagDiagnostic, Position, Range } from './types';

/** A half-open span of text offsets `[start, end)`. */
export interface Span {
  readonly start: number;
  readonly end: number;
}

/** Bounds that keep parsing finite on hostile input. Every field has a default (DEFAULT_LIMITS). */
export interface ParseLimits {
  /** Texts longer than this (UTF-16 units, ≈ bytes for ASCII) are not parsed: one `too-large` diagnostic. */
  readonly maxLength: number;
  /** Flow (`[` `{`) and compact (`- - -`) nesting deeper than this is refused before parsing. */
  readonly maxDepth: number;
  /** Alias expansions allowed when turning the document into plain data (billion laughs guard). */
  readonly maxAliasCount: number;
}

export const DEFAULT_LIMITS: ParseLimits = { maxLength: 2 * 1024 * 1024, maxDepth: 128, maxAliasCount: 100 };

/** The node found at an offset: its path of keys/indexes from the root, and whether the offset is on a key. */
export interface NodeAtOffset {
  /** Keys (strings) and sequence indexes (numbers) from the root to the node, e.g. `['tasks', 'train', 'needs', 0]`. */
  readonly path: readonly (string | number)[];
  /** The node itself (a key's scalar when `onKey`). */
  readonly node: Node;
  /** True when the offset is on a mapping key; `path` then ends with that key. */
  readonly onKey: boolean;
  /** The mapping pair holding the node (as key or as value), when there is one. */
  readonly pair?: Pair;
}

export class DagDocument {
  /** The parsed YAML document; undefined when the text was refused (too large, too deep). */
  readonly yaml: Document.Parsed | undefined;
  /** Problems of the YAML layer: `yaml-syntax`, `duplicate-key`, `too-large`. */
  readonly problems: readonly DagDiagnostic[];
  /** True when the fast path (fast-yaml.ts) built the tree: only such a tree is patched in place by incremental.ts. */
  readonly simple: boolean = false;
  private readonly lineStarts: readonly number[];
  /** The line of the last positionAt: the model asks about offsets in file order, mostly on that line or the next. */
  private lastLine = 0;

  /**
   * `patched` is a tree the fast path built for exactly this text by re-parsing part of it
   * (incremental.ts); it is used as if the fast path had parsed the whole text (unless the text is refused).
   */
  constructor(
    readonly text: string,
    readonly limits: ParseLimits = DEFAULT_LIMITS,
    patched?: Document.Parsed,
  ) {
    const refusal = refuse(text, limits);
    if (refusal) {
      this.lineStarts = lineStartsOf(text);
      this.yaml = undefined;
      this.problems = [this.diagnostic(refusal.span, 'error', 'too-large', refusal.message)];
      return;
    }
    // The common shapes of DAG files parse on a fast path; anything else (and every YAML error) goes to yaml.
    const simple = patched ?? parseSimpleYaml(text);
    if (simple) {
      this.simple = true;
      this.yaml = simple;
      this.lineStarts = lineStartsOf(text);
      this.problems = this.duplicateKeyProblems();
      return;
    }
    const lineCounter = new LineCounter();
    let parsed: Document.Parsed;
    try {
      // prettyErrors off: we write our own messages. uniqueKeys off: yaml's own check compares each
      // key with every earlier one (quadratic: 100,000 tasks never finish); duplicateKeyProblems
      // does it with a set per mapping.
      parsed = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: false });
    } catch (error) {
      // The depth guard should make this unreachable; a stack overflow still must not escape.
      this.lineStarts = lineStartsOf(text);
      this.yaml = undefined;
      const message = `the YAML parser gave up on this file: ${(error as Error).message}`;
      this.problems = [this.diagnostic({ start: 0, end: 0 }, 'error', 'too-large', message)];
      return;
    }
    this.yaml = parsed;
    this.lineStarts = lineCounter.lineStarts;
    this.problems = [
      ...this.yaml.errors.map((error) => this.yamlProblem(error, 'error')),
      ...this.yaml.warnings.map((warning) => this.yamlProblem(warning, 'warning')),
      ...this.duplicateKeyProblems(),
    ];
  }

  /** The 0-based line/UTF-16 column of an offset (clamped to the text). */
  positionAt(offset: number): Position {
    const clamped = Math.max(0, Math.min(offset, this.text.length));
    const line = this.onLine(clamped, this.lastLine) ? this.lastLine : this.onLine(clamped, this.lastLine + 1) ? this.lastLine + 1 : this.lineOf(clamped);
    this.lastLine = line;
    return { line, character: clamped - this.lineStarts[line]! };
  }

  private onLine(offset: number, line: number): boolean {
    const start = this.lineStarts[line];
    if (start === undefined || start > offset) return false;
    const next = this.lineStarts[line + 1];
    return next === undefined || next > offset;
  }

  private lineOf(offset: number): number {
    let low = 0;
    let high = this.lineStarts.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >> 1;
      if (this.lineStarts[middle]! <= offset) low = middle;
      else high = middle - 1;
    }
    return low;
  }

  /** The offset of a position (clamped to its line and to the text). */
  offsetAt(position: Position): number {
    if (position.line < 0) return 0;
    if (position.line >= this.lineStarts.length) return this.text.length;
    const lineStart = this.lineStarts[position.line]!;
    const nextLineStart = this.lineStarts[position.line + 1] ?? this.text.length;
    return Math.max(lineStart, Math.min(lineStart + position.character, nextLineStart));
  }

  rangeOf(span: Span): Range {
    return { start: this.positionAt(span.start), end: this.positionAt(span.end) };
  }

  /** A diagnostic at a span (the one way every check builds one, so ranges are computed alike). */
  diagnostic(
    span: Span,
    severity: DagDiagnostic['severity'],
    code: DagDiagnostic['code'],
    message: string,
    related?: readonly { readonly span: Span; readonly message: string }[],
  ): DagDiagnostic {
    const base = { range: this.rangeOf(span), severity, code, message };
    if (!related || related.length === 0) return base;
    return { ...base, related: related.map((entry) => ({ range: this.rangeOf(entry.span), message: entry.message })) };
  }

  /** The deepest node whose source contains the offset (a key when the offset is on one). */
  nodeAt(offset: number): NodeAtOffset | undefined {
    const root = this.yaml?.contents;
    if (!root || !contains(spanOf(root, true), offset)) return undefined;
    let found: NodeAtOffset = { path: [], node: root, onKey: false };
    for (;;) {
      const next = childAt(found, offset);
      if (!next) return found;
      found = next;
    }
  }

  /** The part of a span on its first line (a problem is marked where it starts, not over a block). */
  firstLineOf(span: Span): Span {
    const lineEnd = this.text.indexOf('\n', span.start);
    return lineEnd === -1 || lineEnd >= span.end || lineEnd === span.start ? span : { start: span.start, end: lineEnd };
  }

  /** A key written twice in one mapping, marked on the later occurrence (scalar keys; linear time). */
  private duplicateKeyProblems(): DagDiagnostic[] {
    const problems: DagDiagnostic[] = [];
    const pending: unknown[] = [this.yaml?.contents];
    while (pending.length > 0) {
      const node = pending.pop();
      if (isMap(node)) {
        const items = node.items;
        // Most mappings (a task's) hold a few keys: compare them pairwise rather than allocate a Set for each.
        const seen = items.length > 8 ? new Set<string>() : undefined;
        for (let index = 0; index < items.length; index++) {
          const pair = items[index]!;
          const key = keyText(pair);
          if (key !== null && (seen ? seen.has(key) : earlierKey(items, index, key))) {
            const message = `duplicate key "${key}": a key may appear only once in a mapping`;
            problems.push(this.diagnostic(spanOf(pair.key as Node), 'error', 'duplicate-key', message));
          }
          if (key !== null) seen?.add(key);
          pending.push(pair.value);
        }
      } else if (isSeq(node)) {
        pending.push(...node.items);
      }
    }
    return problems;
  }

  private yamlProblem(error: YAMLError, severity: 'error' | 'warning'): DagDiagnostic {
    const span = this.firstLineOf(visibleSpan(error.pos[0], error.pos[1], this.text.length));
    if (error.code === 'MULTIPLE_DOCS') {
      const message = 'YAML: a DAG file holds one document: remove this `---` and what follows, or move it to a file of its own';
      return this.diagnostic(span, 'error', 'yaml-syntax', message);
    }
    return this.diagnostic(span, severity, 'yaml-syntax', `YAML: ${firstLine(error.message)}`);
  }
}

/** Parses DAG text; never throws (hostile input becomes a `too-large` problem). */
export function parseDagDocument(text: string, limits: Partial<ParseLimits> = {}): DagDocument {
  return new DagDocument(text, { ...DEFAULT_LIMITS, ...limits });
}

/**
 * The span of a node's value (`range[0]..range[1]`), or with `includeTrailing` up to its node end
 * (comments and blank lines after it). An alias's span is where the alias is written.
 */
export function spanOf(node: Node, includeTrailing = false): Span {
  const range = node.range;
  if (!range) return { start: 0, end: 0 };
  return { start: range[0], end: includeTrailing ? range[2] : range[1] };
}

export function contains(span: Span, offset: number): boolean {
  return offset >= span.start && offset <= span.end;
}

/** A mapping key as a string (scalar keys only; `null` for complex or missing keys). */
export function keyText(pair: Pair): string | null {
  const key = pair.key;
  if (isScalar(key)) return key.value === null || key.value === undefined ? '' : String(key.value);
  return null;
}

/** Whether a pair before `index` has the key `key`. */
function earlierKey(items: readonly Pair[], index: number, key: string): boolean {
  for (let before = 0; before < index; before++) if (keyText(items[before]!) === key) return true;
  return false;
}

function childAt(parent: NodeAtOffset, offset: number): NodeAtOffset | undefined {
  const node = parent.onKey || isAlias(parent.node) ? undefined : parent.node;
  if (isMap(node)) {
    for (const pair of node.items) {
      const key = pair.key as Node | null;
      const name = keyText(pair) ?? '';
      if (key && isScalar(key) && contains(spanOf(key), offset)) return { path: [...parent.path, name], node: key, onKey: true, pair };
      const value = pair.value as Node | null;
      if (value && contains(spanOf(value, true), offset) && value.range) {
        return { path: [...parent.path, name], node: value, onKey: false, pair };
      }
    }
  } else if (isSeq(node)) {
    for (let index = 0; index < node.items.length; index++) {
      const item = node.items[index] as Node | null;
      if (item && contains(spanOf(item, true), offset)) return { path: [...parent.path, index], node: item, onKey: false };
    }
  }
  return undefined;
}

/** A span of at least one character where the text allows it (an empty range is easy to miss in an editor). */
function visibleSpan(start: number, end: number, length: number): Span {
  if (end > start) return { start, end };
  if (start < length) return { start, end: start + 1 };
  return { start: Math.max(0, length - 1), end: length };
}

function firstLine(message: string): string {
  const line = message.split('\n', 1)[0] ?? message;
  return line.replace(/ at line \d+, column \d+:?$/, '');
}

function lineStartsOf(text: string): number[] {
  const starts = [0];
  for (let index = text.indexOf('\n'); index !== -1; index = text.indexOf('\n', index + 1)) starts.push(index + 1);
  return starts;
}

interface Refusal {
  readonly span: Span;
  readonly message: string;
}

/**
 * Input the YAML parser must not see: too long, or nested so deeply that the parser's recursion
 * exhausts memory (10,000 `[` abort the process outright — not even catchable). The depth scan is a
 * cheap over-estimate: it skips quoted text and comments, and counts flow brackets and compact
 * `- - -` sequence indicators.
 */
function refuse(text: string, limits: ParseLimits): Refusal | undefined {
  if (text.length > limits.maxLength) {
    const firstLineEnd = text.indexOf('\n');
    return {
      span: { start: 0, end: firstLineEnd === -1 ? Math.min(text.length, 1) : firstLineEnd },
      message: `file too large to validate: ${formatSize(text.length)} (the limit is ${formatSize(limits.maxLength)})`,
    };
  }
  const deep = tooDeepAt(text, limits.maxDepth);
  if (deep !== undefined) {
    return { span: { start: deep, end: deep + 1 }, message: `nesting too deep to validate (more than ${limits.maxDepth} levels)` };
  }
  return undefined;
}

const SPACE = 32;
const TAB = 9;
const NEWLINE = 10;
const HASH = 35;
const DASH = 45;
const QUOTE = 34;
const APOSTROPHE = 39;
const BACKSLASH = 92;
const COLON = 58;
const COMMA = 44;
const QUESTION = 63;
const OPEN_BRACKET = 91;
const CLOSE_BRACKET = 93;
const OPEN_BRACE = 123;
const CLOSE_BRACE = 125;

/** What the depth scan acts on past a line's indentation; everything else it passes over. */
const SCAN_STOPS = new Uint8Array(128);
for (const code of [NEWLINE, HASH, QUOTE, APOSTROPHE, OPEN_BRACKET, CLOSE_BRACKET, OPEN_BRACE, CLOSE_BRACE]) SCAN_STOPS[code] = 1;

function tooDeepAt(text: string, maxDepth: number): number | undefined {
  let flowDepth = 0;
  let lineStart = true;
  let compactDepth = 0;
  const length = text.length;
  for (let index = 0; index < length; index++) {
    let code = text.charCodeAt(index);
    if (!lineStart) {
      // A tight loop to the next character that matters (the scan of a megabyte went from ~10 ms to ~2).
      while (code >= 128 || SCAN_STOPS[code] === 0) {
        if (++index >= length) return undefined;
        code = text.charCodeAt(index);
      }
    }
    if (code === NEWLINE) {
      lineStart = true;
      compactDepth = 0;
      continue;
    }
    if (lineStart && (code === SPACE || code === TAB)) continue;
    if (lineStart && (code === DASH || code === QUESTION) && isBlank(text.charCodeAt(index + 1))) {
      if (++compactDepth > maxDepth) return index;
      continue;
    }
    const atLineStart = lineStart;
    lineStart = false;
    if (code === HASH && (index === 0 || isBlank(text.charCodeAt(index - 1)))) {
      const end = text.indexOf('\n', index);
      index = (end === -1 ? text.length : end) - 1;
    } else if ((code === QUOTE || code === APOSTROPHE) && (atLineStart || STARTS_SCALAR.has(previousNonBlank(text, index)))) {
      index = closingQuote(text, index, code);
    } else if (code === OPEN_BRACKET || code === OPEN_BRACE) {
      if (++flowDepth > maxDepth) return index;
    } else if ((code === CLOSE_BRACKET || code === CLOSE_BRACE) && flowDepth > 0) {
      flowDepth--;
    }
  }
  return undefined;
}

/** After these a quote opens a quoted scalar; elsewhere (`it's`) it is part of a plain one. */
const STARTS_SCALAR = new Set([COLON, DASH, QUESTION, COMMA, OPEN_BRACKET, OPEN_BRACE, NEWLINE, -1]);

function previousNonBlank(text: string, index: number): number {
  for (let at = index - 1; at >= 0; at--) {
    const code = text.charCodeAt(at);
    if (code !== SPACE && code !== TAB) return code;
  }
  return -1;
}

function isBlank(code: number): boolean {
  return code === SPACE || code === TAB || code === NEWLINE || Number.isNaN(code);
}

/** The index of the closing quote (or the end of the text); `\"` escapes only in double quotes. */
function closingQuote(text: string, open: number, quote: number): number {
  for (let index = open + 1; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (quote === QUOTE && code === BACKSLASH) index++;
    else if (code === quote) return index;
  }
  return text.length;
}

function formatSize(length: number): string {
  return length >= 1024 * 1024 ? `${(length / 1024 / 1024).toFixed(1)} MB` : `${Math.ceil(length / 1024)} KB`;
}
