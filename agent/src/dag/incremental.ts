/**
 * Validation of one document as it is edited (the language server's path, issue 2). The first text
 * is validated in full. After that, when the new text differs from the last one only inside one
 * entry under `tasks:` (the common case: a user editing a line of a task), only that entry is parsed
 * again; the rest of the YAML tree and of the model is kept, its offsets and lines moved by the edit,
 * and then every whole-file check runs again over the result: schema, duplicate keys, needs,
 * environments, templates, unused params, output conflicts, missing inputs, cycles. The diagnostics
 * are exactly those validateDag gives for the new text (test/unit/dag/incremental.test.ts compares
 * them on thousands of random edits).
 *
 * Anything else validates in full: an edit reaching beyond one entry, a changed indentation of the
 * entry's key, the last task (its end is where the mapping ends), a file the fast YAML path did not
 * parse (errors, anchors…), duplicate task names, matrices at the instance limits, any exception.
 *
 * The kept tree and model are changed in place: a result stays valid only until the next call.
 */
import { isMap, isScalar, isSeq, type Node, type Pair, type YAMLMap } from 'yaml';
import { DagDocument, DEFAULT_LIMITS, keyText, parseDagDocument, type ParseLimits } from './document';
import { parseSimpleMapEntry, simpleDocument } from './fast-yaml';
import { EntryIssueCache } from './schema-check';
import { buildEditableDagModel, type EditableDagModel, type ModelLimits } from './model';
import type { WorkspaceProbe } from './types';
import { checkDag, validateDag, type ValidationResult } from './validate';

export interface IncrementalOptions {
  /** A probe for each validation (answers are cached per probe, and the workspace changes between edits). */
  readonly probe?: () => WorkspaceProbe;
  readonly limits?: Partial<ParseLimits & ModelLimits>;
}

/** How the last validation went: the whole text, one task entry again, or an unchanged text re-checked. */
export type ValidationMode = 'full' | 'entry' | 'unchanged';

interface Kept {
  readonly document: DagDocument;
  readonly editable: EditableDagModel;
  readonly schema: EntryIssueCache;
}

export class IncrementalValidator {
  private kept: Kept | undefined;
  private mode: ValidationMode = 'full';

  constructor(private readonly options: IncrementalOptions = {}) {}

  get lastMode(): ValidationMode {
    return this.mode;
  }

  /** validateDag(text) — computed from the last text's tree and model when the edit allows. */
  validate(text: string): ValidationResult {
    const probe = this.options.probe?.();
    const kept = this.kept;
    // Spent either way: an edit taken in place changes the kept tree and model.
    this.kept = undefined;
    if (kept) {
      try {
        const edited = this.edit(kept, text);
        if (edited) {
          const result = checkDag(edited.editable.model, probe, edited.schema);
          this.kept = edited;
          return result;
        }
      } catch {
        // Whatever went wrong, the full validation below gives the answer (or reports the bug).
      }
    }
    this.mode = 'full';
    return this.full(text, probe);
  }

  private full(text: string, probe: WorkspaceProbe | undefined): ValidationResult {
    const limits = this.options.limits ?? {};
    try {
      const document = parseDagDocument(text, limits);
      const editable = buildEditableDagModel(document, limits);
      const schema = new EntryIssueCache();
      const result = checkDag(editable.model, probe, schema);
      if (document.simple) this.kept = { document, editable, schema };
      return result;
    } catch {
      // validateDag turns the failure into its internal-error diagnostic.
      return validateDag(text, { ...(probe ? { probe } : {}), limits });
    }
  }

  /** The kept state moved to `text`, or undefined when the edit is not one task entry's. */
  private edit(kept: Kept, text: string): Kept | undefined {
    const old = kept.document;
    if (text === old.text) {
      this.mode = 'unchanged';
      return kept;
    }
    const window = changedWindow(old.text, text);
    // The fast path refuses these anywhere; the kept text had none.
    if (/[\r\t]/.test(text.slice(window.start, window.newEnd))) return undefined;
    const tasks = old.yaml && old.simple ? tasksMapping(old.yaml.contents) : undefined;
    if (!tasks) return undefined;
    const delta = text.length - old.text.length;
    for (const index of candidateEntries(tasks, window)) {
      const entryStart = keyStart(tasks.items[index]!);
      const nextStart = keyStart(tasks.items[index + 1]!);
      const indent = entryStart - lineStartOf(old.text, entryStart);
      const parsed = parseSimpleMapEntry(text, entryStart, indent);
      const next = nextStart + delta;
      // The entry must end where the next key now starts, at the same column: the rest parses as before.
      if (!parsed || parsed.next !== next || next - lineStartOf(text, next) !== indent) continue;

      shiftTree(kept.document.yaml?.contents, nextStart, delta);
      tasks.items[index] = parsed.pair;
      const root = old.yaml!.contents as Node;
      const patched = simpleDocument(text, root);
      const document = new DagDocument(text, { ...DEFAULT_LIMITS, ...this.options.limits }, patched);
      if (document.yaml !== patched) return undefined; // refused (too large, too deep)
      const lineDelta = document.positionAt(next).line - old.positionAt(nextStart).line;
      const model = kept.editable.replaceTask(document, index, parsed.pair, { entryStart, nextStart, delta, lineDelta });
      if (!model) return undefined;
      this.mode = 'entry';
      return { document, editable: kept.editable, schema: kept.schema };
    }
    return undefined;
  }
}

/** Where two texts differ: `[start, oldEnd)` of the old became `[start, newEnd)` of the new. */
interface Window {
  readonly start: number;
  readonly oldEnd: number;
  readonly newEnd: number;
}

function changedWindow(before: string, after: string): Window {
  const limit = Math.min(before.length, after.length);
  // Whole chunks compared as strings first (native comparison: ~0.3 ms for a megabyte, where a
  // loop over single characters took ~6 ms), then the characters of the chunk that differs.
  let start = 0;
  while (start + CHUNK <= limit && before.slice(start, start + CHUNK) === after.slice(start, start + CHUNK)) start += CHUNK;
  while (start < limit && before.charCodeAt(start) === after.charCodeAt(start)) start++;
  const room = limit - start;
  let suffix = 0;
  while (suffix + CHUNK <= room && before.slice(before.length - suffix - CHUNK, before.length - suffix) === after.slice(after.length - suffix - CHUNK, after.length - suffix)) {
    suffix += CHUNK;
  }
  while (suffix < room && before.charCodeAt(before.length - 1 - suffix) === after.charCodeAt(after.length - 1 - suffix)) suffix++;
  return { start, oldEnd: before.length - suffix, newEnd: after.length - suffix };
}

const CHUNK = 2048;

/** The root's `tasks:` block mapping (the only `tasks` key), or undefined. */
function tasksMapping(root: unknown): YAMLMap | undefined {
  if (!isMap(root) || root.flow) return undefined;
  const pairs = root.items.filter((pair) => keyText(pair) === 'tasks');
  const value = pairs.length === 1 ? pairs[0]!.value : undefined;
  return isMap(value) && !value.flow && value.items.length > 1 ? value : undefined;
}

/**
 * The entries whose text holds the window — never the last one. An insertion right at a key's
 * start can belong to the entry before it too (a line added at the end of a task reads so).
 */
function candidateEntries(tasks: YAMLMap, window: Window): number[] {
  const items = tasks.items;
  let low = 0;
  let high = items.length - 1;
  if (keyStart(items[0]!) > window.start) return [];
  while (low < high) {
    const middle = (low + high + 1) >> 1;
    if (keyStart(items[middle]!) <= window.start) low = middle;
    else high = middle - 1;
  }
  const candidates: number[] = [];
  const fits = (index: number): boolean => index >= 0 && index + 1 < items.length && window.oldEnd <= keyStart(items[index + 1]!);
  if (fits(low)) candidates.push(low);
  if (window.oldEnd === window.start && window.start === keyStart(items[low]!) && fits(low - 1)) candidates.push(low - 1);
  return candidates;
}

function keyStart(pair: Pair): number {
  const key = pair.key;
  if (!isScalar(key) || !key.range) throw new Error('a task key without a position');
  return key.range[0];
}

function lineStartOf(text: string, offset: number): number {
  return text.lastIndexOf('\n', offset - 1) + 1;
}

/** Moves every offset at or after `from` by `delta`, in place (subtrees that end before `from` are skipped). */
function shiftTree(node: unknown, from: number, delta: number): void {
  if (!node || typeof node !== 'object') return;
  const range = (node as Node).range;
  if (range) {
    if (range[2] < from) return;
    if (range[0] >= from) range[0] += delta;
    if (range[1] >= from) range[1] += delta;
    range[2] += delta;
  }
  if (isMap(node)) {
    for (const pair of node.items) {
      shiftTree(pair.key, from, delta);
      shiftTree(pair.value, from, delta);
    }
  } else if (isSeq(node)) {
    for (const item of node.items) shiftTree(item, from, delta);
  }
}
