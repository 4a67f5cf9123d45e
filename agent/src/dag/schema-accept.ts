/**
 * A hand-specialised acceptance check of one `tasks:` entry against the zod `Task` schema, on the
 * YAML nodes the fast path (fast-yaml.ts) builds — no conversion to plain data, no zod. It answers
 * only "zod accepts this entry" (true) or "ask zod" (false): every issue, and every message, still
 * comes from zod. Converting every task to plain data and running zod on it was ~20% of a full
 * validation of the 5,000-task benchmark file.
 *
 * Sound, not complete: it accepts a subset of what zod accepts (test/unit/dag/schema-accept.test.ts
 * holds it to zod's answer on random mutations). Keep it in step with schemas/dag.ts: a field the
 * schema gains is unknown here, so such entries go to zod until this file learns it.
 */
import { Scalar, YAMLMap, YAMLSeq, type Pair } from 'yaml';
import { DURATION_PATTERN, MEMORY_PATTERN, NAME_PATTERN } from '../../../schemas/dag';

type FieldCheck = (node: unknown) => boolean;

/** The scalar's value when the node is a plain-data scalar of the fast path (never an alias or a tag). */
function scalarValue(node: unknown): unknown {
  return node instanceof Scalar ? node.value : undefined;
}

function isString(node: unknown): boolean {
  return typeof scalarValue(node) === 'string';
}

function isNonEmptyString(node: unknown): boolean {
  const value = scalarValue(node);
  return typeof value === 'string' && value.length > 0;
}

/** zod's `z.number()` refuses NaN and ±Infinity. */
function isFiniteNumber(node: unknown): boolean {
  const value = scalarValue(node);
  return typeof value === 'number' && Number.isFinite(value);
}

/** zod's `.int()` means a safe integer. */
function isInteger(node: unknown): boolean {
  const value = scalarValue(node);
  return typeof value === 'number' && Number.isSafeInteger(value);
}

function isBoolean(node: unknown): boolean {
  return typeof scalarValue(node) === 'boolean';
}

/** The schema's `Scalar`: a string, a number or a boolean. */
function isPlainScalar(node: unknown): boolean {
  return isString(node) || isFiniteNumber(node) || isBoolean(node);
}

function matches(pattern: RegExp): FieldCheck {
  return (node) => {
    const value = scalarValue(node);
    return typeof value === 'string' && pattern.test(value);
  };
}

function isListOf(item: FieldCheck, minimum = 0): FieldCheck {
  return (node) => node instanceof YAMLSeq && node.items.length >= minimum && node.items.every(item);
}

/** A mapping whose keys are distinct strings passing `key`, and whose values pass `value`. */
function isRecordOf(key: FieldCheck, value: FieldCheck): FieldCheck {
  return (node) => {
    if (!(node instanceof YAMLMap)) return false;
    const items = node.items as Pair[];
    for (let index = 0; index < items.length; index++) {
      const pair = items[index]!;
      if (!key(pair.key) || !value(pair.value) || hasEarlierKey(items, index)) return false;
    }
    return true;
  };
}

/** A mapping with only the given keys (each once), `required` among them. */
function isStrictObject(fields: Readonly<Record<string, FieldCheck>>, required: readonly string[] = []): FieldCheck {
  return (node) => {
    if (!(node instanceof YAMLMap)) return false;
    const items = node.items as Pair[];
    let requiredSeen = 0;
    for (let index = 0; index < items.length; index++) {
      const pair = items[index]!;
      const key = scalarValue(pair.key);
      if (typeof key !== 'string' || !Object.hasOwn(fields, key) || hasEarlierKey(items, index)) return false;
      if (!fields[key]!(pair.value)) return false;
      if (required.includes(key)) requiredSeen++;
    }
    return requiredSeen === required.length;
  };
}

/** Duplicate keys: the data keeps one value of the two, so zod sees something else; it decides. */
function hasEarlierKey(items: readonly Pair[], index: number): boolean {
  const key = scalarValue(items[index]!.key);
  for (let before = 0; before < index; before++) if (scalarValue(items[before]!.key) === key) return true;
  return false;
}

const isName = matches(NAME_PATTERN);
const isPathList = isListOf(isNonEmptyString);

const isResources = isStrictObject({
  cpus: (node) => isFiniteNumber(node) && (scalarValue(node) as number) > 0,
  memory: matches(MEMORY_PATTERN),
  gpus: (node) => (isInteger(node) && (scalarValue(node) as number) >= 0) || scalarValue(node) === 'all',
});

const isTask = isStrictObject(
  {
    description: isString,
    run: isNonEmptyString,
    needs: (node) => isString(node) || isListOf(isString)(node),
    environment: isString,
    inputs: isPathList,
    outputs: isPathList,
    metrics: (node) => isNonEmptyString(node) || isPathList(node),
    matrix: isRecordOf(isName, isListOf(isPlainScalar, 1)),
    env: isRecordOf(isString, isPlainScalar),
    cache: isBoolean,
    retries: (node) => isInteger(node) && (scalarValue(node) as number) >= 0 && (scalarValue(node) as number) <= 100,
    timeout: matches(DURATION_PATTERN),
    resources: isResources,
    priority: isInteger,
  },
  ['run'],
);

/**
 * True only when zod's `tasks` record accepts this one entry (its name and its task); false: ask
 * zod. For trees the fast path built (aliases, tags and merge keys never reach it).
 */
export function taskEntryConforms(pair: Pair): boolean {
  return isName(pair.key) && isTask(pair.value);
}
