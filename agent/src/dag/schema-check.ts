/**
 * Schema errors: the document's data checked against the zod schema (schemas/dag.ts, the truth),
 * each issue placed on the YAML node its path names — the offending value, the unknown key, or
 * (for a missing key) the key of the mapping that lacks it.
 */
import { isAlias, isCollection, isMap, isScalar, isSeq, visit, YAMLMap, type Node, type Pair } from 'yaml';
import type { z } from 'zod';
import { Dag, ENVIRONMENT_KINDS } from '../../../schemas/dag';
import { keyText, spanOf, type DagDocument, type Span } from './document';
import type { DagModel } from './model';
import { taskEntryConforms } from './schema-accept';
import type { DagDiagnostic } from './types';

type Issue = z.core.$ZodIssue;
type PathSegment = PropertyKey;

/**
 * The schema issues of each task entry, by entry (a Pair of `tasks:`), for a document edited in
 * place (incremental.ts): entries the edit did not touch are the same objects, so their issues are
 * not computed again — only placed again, on the current tree.
 */
export class EntryIssueCache {
  readonly issues = new WeakMap<Pair, readonly Issue[]>();
}

/**
 * Schema diagnostics for a parsed document (none when the YAML could not be parsed at all). A
 * fast-path tree with unique task names is checked in parts — the file without its tasks, then each
 * task entry on its own — which gives the same issues (the schema has no rule across tasks), lets
 * an entry the hand-specialised check accepts skip zod (schema-accept.ts), and, with a cache, lets
 * unchanged entries keep their issues.
 */
export function schemaDiagnostics(document: DagDocument, cache?: EntryIssueCache): DagDiagnostic[] {
  const yaml = document.yaml;
  if (!yaml) return [];
  return (document.simple ? schemaDiagnosticsByEntry(document, cache) : undefined) ?? wholeFileSchemaDiagnostics(document);
}

/**
 * The whole file's data checked by zod at once: for trees `yaml` parsed, and the oracle the
 * checks in parts are tested against (test/unit/dag/schema-accept.test.ts).
 */
export function wholeFileSchemaDiagnostics(document: DagDocument): DagDiagnostic[] {
  const yaml = document.yaml;
  if (!yaml) return [];
  let data: unknown;
  try {
    data = yaml.toJS({ maxAliasCount: document.limits.maxAliasCount });
  } catch (error) {
    // yaml throws a ReferenceError when aliases expand past maxAliasCount (billion laughs).
    const span = firstAliasSpan(document) ?? { start: 0, end: 0 };
    const reason = error instanceof ReferenceError ? 'aliases expand too much (an alias bomb?)' : (error as Error).message;
    return [document.diagnostic(span, 'error', 'too-large', `cannot check this file against the schema: ${reason}`)];
  }
  if (data === null || data === undefined) {
    return [document.diagnostic({ start: 0, end: 0 }, 'error', 'schema', 'the file is empty: a pipeline needs at least `version: 1` and `tasks:`')];
  }
  const result = Dag.safeParse(data);
  if (result.success) return [];
  return result.error.issues.flatMap((issue) => issueDiagnostics(document, issue, []));
}

const TasksRecord = Dag.shape.tasks;

function schemaDiagnosticsByEntry(document: DagDocument, cache: EntryIssueCache | undefined): DagDiagnostic[] | undefined {
  const yaml = document.yaml!;
  const root = yaml.contents;
  if (!isMap(root)) return undefined;
  const tasksPairs = root.items.filter((pair) => keyText(pair) === 'tasks');
  const tasksPair = tasksPairs.length === 1 ? tasksPairs[0]! : undefined;
  const tasks = tasksPair?.value;
  if (!tasksPair || !isMap(tasks)) return undefined;
  const names = new Set<string>();
  for (const pair of tasks.items) {
    const name = keyText(pair);
    // Duplicate names share one property of the data (the later value at the first one's place): check whole.
    if (name === null || names.has(name)) return undefined;
    names.add(name);
  }
  // The file's data with `tasks: {}`: the tasks' value is swapped out for the conversion only.
  const swapped = tasksPair as Pair<unknown, unknown>;
  let data: unknown;
  swapped.value = new YAMLMap();
  try {
    data = yaml.toJS({ maxAliasCount: document.limits.maxAliasCount });
  } finally {
    swapped.value = tasks;
  }
  const diagnostics: DagDiagnostic[] = [];
  const rootResult = Dag.safeParse(data);
  if (!rootResult.success) for (const issue of rootResult.error.issues) diagnostics.push(...issueDiagnostics(document, issue, []));
  for (const pair of tasks.items) {
    let issues = cache?.issues.get(pair);
    if (!issues) {
      issues = entryIssues(document, pair);
      cache?.issues.set(pair, issues);
    }
    for (const issue of issues) diagnostics.push(...issueDiagnostics(document, issue, ['tasks']));
  }
  return diagnostics;
}

const NO_ISSUES: readonly Issue[] = [];

/** zod's issues for one entry of `tasks:` (none, without asking zod, when schema-accept.ts accepts it). */
function entryIssues(document: DagDocument, pair: Pair): readonly Issue[] {
  if (taskEntryConforms(pair)) return NO_ISSUES;
  const single = new YAMLMap();
  single.items.push(pair);
  const result = TasksRecord.safeParse(single.toJS(document.yaml!, { maxAliasCount: document.limits.maxAliasCount }));
  return result.success ? NO_ISSUES : result.error.issues;
}

/** Checks the schema cannot express: an environment declares exactly one kind. */
export function environmentKindDiagnostics(model: DagModel): DagDiagnostic[] {
  const diagnostics: DagDiagnostic[] = [];
  for (const environment of model.environments.values()) {
    if (environment.kinds.length === 1) continue;
    const kinds = ENVIRONMENT_KINDS.join(', ');
    const message =
      environment.kinds.length === 0
        ? `environment "${environment.name}" declares no kind: give it one of ${kinds}`
        : `environment "${environment.name}" declares ${environment.kinds.join(' and ')}: give it exactly one of ${kinds}`;
    diagnostics.push(model.document.diagnostic(environment.key.span, 'error', 'schema', message));
  }
  return diagnostics;
}

function issueDiagnostics(document: DagDocument, issue: Issue, prefix: readonly PathSegment[]): DagDiagnostic[] {
  const path = [...prefix, ...issue.path];
  const error = (span: Span, message: string): DagDiagnostic => document.diagnostic(span, 'error', 'schema', message);
  const where = locate(document, path);
  const field = describePath(path);
  switch (issue.code) {
    case 'unrecognized_keys':
      return issue.keys.map((key) => {
        const keyNode = where.found && isMap(where.node) ? findPair(where.node, key)?.key : undefined;
        const span = keyNode ? spanOf(keyNode as Node) : where.span;
        return error(span, `unknown key "${key}"${field ? ` in ${field}` : ''}`);
      });
    case 'invalid_key': {
      const reason = issue.issues[0]?.message ?? issue.message;
      return [error(where.keySpan ?? where.span, `invalid name "${String(path[path.length - 1])}": expected ${reason}`)];
    }
    case 'invalid_union':
      return unionDiagnostics(document, issue, path, where, field);
    case 'invalid_type':
      if (!where.found) return [error(where.span, `missing required key "${String(path[path.length - 1])}"${parentField(path)}`)];
      return [error(where.span, `${field}: expected ${issue.expected}, got ${describeNode(where.node)}`)];
    case 'invalid_value':
      return [error(where.span, `${field}: expected ${issue.values.map((value) => JSON.stringify(value)).join(' or ')}`)];
    case 'invalid_format':
      return [error(where.span, `${field}: expected ${issue.message}`)];
    default:
      return [error(where.span, `${field}: ${issue.message}`)];
  }
}

/** A union's issues: the branch that came closest explains it; a plain type mismatch names every branch. */
function unionDiagnostics(
  document: DagDocument,
  issue: Extract<Issue, { code: 'invalid_union' }>,
  path: readonly PathSegment[],
  where: Location,
  field: string,
): DagDiagnostic[] {
  const branches = issue.errors.filter((branch) => branch.length > 0);
  const typeOnly = branches.every((branch) => branch.length === 1 && branch[0]!.code === 'invalid_type' && branch[0]!.path.length === 0);
  if (branches.length === 0 || typeOnly) {
    const expected = branches.map((branch) => (branch[0] as { expected?: string }).expected).filter(Boolean);
    const wanted = expected.length > 0 ? expected.map((name) => (name === 'array' ? 'a list' : `a ${name}`)).join(' or ') : 'another value';
    return [document.diagnostic(where.span, 'error', 'schema', `${field}: expected ${wanted}, got ${describeNode(where.node)}`)];
  }
  const closest = [...branches].sort((left, right) => left.length - right.length)[0]!;
  return closest.flatMap((inner) => issueDiagnostics(document, inner, path));
}

interface Location {
  /** Whether every segment of the path was found. */
  readonly found: boolean;
  /** The node the path reaches (the deepest found). */
  readonly node: Node | null;
  /** Where to report: a scalar value itself; a collection's key (or first line) so ranges stay short. */
  readonly span: Span;
  /** The key of the pair holding the node, when it is a mapping value. */
  readonly keySpan?: Span;
}

function locate(document: DagDocument, path: readonly PathSegment[]): Location {
  let node: Node | null = (document.yaml?.contents as Node | null) ?? null;
  let keyNode: Node | null = null;
  for (const segment of path) {
    const resolved = resolveAlias(document, node);
    let next: Node | null = null;
    let nextKey: Node | null = null;
    if (isMap(resolved)) {
      const pair = findPair(resolved, String(segment));
      if (pair) {
        next = (pair.value as Node | null) ?? null;
        nextKey = pair.key as Node;
        // A key with no value (`run:`) is reported on its key.
        if (!next) return { found: true, node: null, span: spanOf(nextKey), keySpan: spanOf(nextKey) };
      }
    } else if (isSeq(resolved) && typeof segment === 'number') {
      next = (resolved.items[segment] as Node | null) ?? null;
    }
    if (!next) return { found: false, node, span: reportSpan(document, node, keyNode), ...(keyNode ? { keySpan: spanOf(keyNode) } : {}) };
    node = next;
    keyNode = nextKey;
  }
  return { found: true, node, span: reportSpan(document, node, keyNode), ...(keyNode ? { keySpan: spanOf(keyNode) } : {}) };
}

function reportSpan(document: DagDocument, node: Node | null, keyNode: Node | null): Span {
  if (node && !isCollection(node)) return spanOf(node);
  if (keyNode) return spanOf(keyNode);
  if (!node) return { start: 0, end: 0 };
  // A collection with no key (the root, a list item): its first line, never the whole block.
  const span = spanOf(node);
  const lineEnd = document.text.indexOf('\n', span.start);
  return { start: span.start, end: lineEnd === -1 || lineEnd > span.end ? span.end : lineEnd };
}

function findPair(map: { items: Pair[] }, key: string): Pair | undefined {
  return map.items.find((pair) => keyText(pair) === key);
}

function resolveAlias(document: DagDocument, node: Node | null): Node | null {
  if (node && isAlias(node) && document.yaml) return (node.resolve(document.yaml) as Node | undefined) ?? null;
  return node;
}

function firstAliasSpan(document: DagDocument): Span | undefined {
  let span: Span | undefined;
  if (document.yaml) {
    visit(document.yaml, {
      Alias(_key, node) {
        span = spanOf(node);
        return visit.BREAK;
      },
    });
  }
  return span;
}

/** `tasks.train.timeout` → `timeout of task "train"`; short names users recognise. */
function describePath(path: readonly PathSegment[]): string {
  if (path.length === 0) return 'the file';
  const [section, name, ...rest] = path.map(String);
  const owner =
    section === 'tasks' && name !== undefined ? `task "${name}"` : section === 'environments' && name !== undefined ? `environment "${name}"` : undefined;
  if (owner) return rest.length > 0 ? `${rest.join('.')} of ${owner}` : owner;
  return path.map(String).join('.');
}

function parentField(path: readonly PathSegment[]): string {
  const parent = describePath(path.slice(0, -1));
  return parent === 'the file' ? ' at the top of the file' : ` in ${parent}`;
}

function describeNode(node: Node | null): string {
  if (!node) return 'nothing';
  if (isMap(node)) return 'a mapping';
  if (isSeq(node)) return 'a list';
  if (isAlias(node)) return 'an alias';
  if (isScalar(node)) {
    const value = node.value;
    if (value === null) return 'null';
    if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
    return `${typeof value} ${String(value)}`;
  }
  return 'an unexpected value';
}
