/**
 * schemas/dag.schema.json is generated from the zod schema (schemas/dag.ts) and committed for the
 * YAML extension and SchemaStore: it must be what the generator renders today, carry its `$id`, and
 * document every property (the descriptions are the hover docs and the reference).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { DAG_SCHEMA_ID } from '../../../schemas/dag';
import { DAG_SCHEMA_PATH, renderDagJsonSchema } from '../../../schemas/generate';

type JsonSchema = Record<string, unknown>;

function isSchema(value: unknown): value is JsonSchema {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Every `properties` entry anywhere in the schema, with its path (`tasks.*.resources.cpus`). */
function propertiesOf(schema: JsonSchema, path: string[] = []): { path: string; schema: JsonSchema }[] {
  const found: { path: string; schema: JsonSchema }[] = [];
  if (isSchema(schema.properties)) {
    for (const [name, child] of Object.entries(schema.properties)) {
      if (!isSchema(child)) continue;
      found.push({ path: [...path, name].join('.'), schema: child });
      found.push(...propertiesOf(child, [...path, name]));
    }
  }
  if (isSchema(schema.additionalProperties)) found.push(...propertiesOf(schema.additionalProperties, [...path, '*']));
  if (isSchema(schema.items)) found.push(...propertiesOf(schema.items, [...path, '[]']));
  for (const key of ['anyOf', 'oneOf', 'allOf'] as const) {
    const branches = schema[key];
    if (Array.isArray(branches)) for (const branch of branches) if (isSchema(branch)) found.push(...propertiesOf(branch, path));
  }
  return found;
}

void test('the committed schemas/dag.schema.json is what schemas/generate.ts renders (run `npm run gen:schema`)', () => {
  const committed = readFileSync(DAG_SCHEMA_PATH, 'utf8');
  assert.equal(committed, renderDagJsonSchema(), 'schemas/dag.schema.json is stale: run `npm run gen:schema` and commit it');
});

void test('the schema has its $id, a draft-07 $schema and a title', () => {
  const schema = JSON.parse(readFileSync(DAG_SCHEMA_PATH, 'utf8')) as JsonSchema;
  assert.equal(schema.$id, DAG_SCHEMA_ID);
  assert.match(String(schema.$id), /^https:\/\/.+\/dag\.schema\.json$/);
  assert.equal(schema.$schema, 'http://json-schema.org/draft-07/schema#');
  assert.equal(typeof schema.title, 'string');
  assert.equal(typeof schema.description, 'string');
});

void test('every property in the schema has a description', () => {
  const schema = JSON.parse(renderDagJsonSchema()) as JsonSchema;
  const properties = propertiesOf(schema);
  assert.ok(properties.length > 30, `only ${properties.length} properties found: the walk is broken`);
  const undocumented = properties
    .filter((property) => typeof property.schema.description !== 'string' || property.schema.description.trim() === '')
    .map((property) => property.path);
  assert.deepEqual(undocumented, [], 'properties without a description in schemas/dag.ts');
});
