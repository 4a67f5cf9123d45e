/**
 * The DAG schema as documentation: which fields exist at a place in the file and what each one is
 * for, read from the JSON Schema generated from schemas/dag.ts (so hovers and completions say
 * exactly what the reference docs and the YAML extension say).
 */
import { dagJsonSchema } from '../../../../schemas/dag';

export interface FieldSchema {
  readonly description?: string;
  readonly type?: string | readonly string[];
  readonly properties?: Readonly<Record<string, FieldSchema>>;
  readonly additionalProperties?: FieldSchema | boolean;
  readonly items?: FieldSchema;
  readonly anyOf?: readonly FieldSchema[];
  readonly enum?: readonly unknown[];
  readonly const?: unknown;
  readonly default?: unknown;
}

export interface FieldDoc {
  readonly name: string;
  readonly description: string;
  readonly schema: FieldSchema;
}

let root: FieldSchema | undefined;

function rootSchema(): FieldSchema {
  root ??= dagJsonSchema() as FieldSchema;
  return root;
}

/** The alternatives (anyOf branches flattened) a schema allows. */
function alternatives(schema: FieldSchema): FieldSchema[] {
  return schema.anyOf ? schema.anyOf.flatMap(alternatives) : [schema];
}

/** The schemas that apply at a path of keys (`['tasks', 'train', 'resources']`) and indexes. */
export function schemasAt(path: readonly (string | number)[]): FieldSchema[] {
  let current = [rootSchema()];
  for (const step of path) {
    const next: FieldSchema[] = [];
    for (const schema of current.flatMap(alternatives)) {
      if (typeof step === 'number') {
        if (schema.items) next.push(schema.items);
      } else if (schema.properties?.[step]) {
        next.push(schema.properties[step]);
      } else if (typeof schema.additionalProperties === 'object') {
        next.push(schema.additionalProperties);
      }
    }
    if (next.length === 0) return [];
    current = next;
  }
  return current;
}

/** The field at a path with its description (the first alternative that has one). */
export function fieldAt(path: readonly (string | number)[]): FieldDoc | undefined {
  const name = path.at(-1);
  if (typeof name !== 'string') return undefined;
  const schemas = schemasAt(path);
  const described = schemas.find((schema) => schema.description !== undefined);
  if (!described) return undefined;
  return { name, description: described.description!, schema: described };
}

/** The named fields an object at `path` may have (no named fields for a map of user names such as `tasks`). */
export function fieldsOf(path: readonly (string | number)[]): FieldDoc[] {
  const fields = new Map<string, FieldDoc>();
  for (const schema of schemasAt(path).flatMap(alternatives)) {
    for (const [name, child] of Object.entries(schema.properties ?? {})) {
      if (!fields.has(name)) fields.set(name, { name, description: child.description ?? '', schema: child });
    }
  }
  return [...fields.values()];
}

/** True when a path ends at a map whose keys the user names (`tasks`, `params`, a task's `env`). */
export function isNameMap(path: readonly (string | number)[]): boolean {
  const schemas = schemasAt(path).flatMap(alternatives);
  return schemas.length > 0 && schemas.every((schema) => !schema.properties && typeof schema.additionalProperties === 'object');
}

/** The schema path as written in docs/dag-format.md: user-chosen names become `<name>`. */
export function docPath(path: readonly (string | number)[]): string {
  const parts: string[] = [];
  path.forEach((step, index) => {
    if (typeof step === 'number') return;
    parts.push(index > 0 && isNameMap(path.slice(0, index)) ? '<name>' : step);
  });
  return parts.join('.');
}

/** A short type summary for a hover: `string`, `number`, `string | string[]`, `true`. */
export function typeSummary(schema: FieldSchema): string {
  const kinds = alternatives(schema).map((alternative) => {
    if (alternative.const !== undefined) return JSON.stringify(alternative.const);
    if (alternative.enum) return alternative.enum.map((value) => JSON.stringify(value)).join(' | ');
    const type = Array.isArray(alternative.type) ? alternative.type.join(' | ') : (alternative.type ?? 'any');
    if (type === 'array' && alternative.items) return `${typeSummary(alternative.items)}[]`;
    if (type === 'object' && !alternative.properties) return 'map';
    return type;
  });
  return [...new Set(kinds)].join(' | ');
}
