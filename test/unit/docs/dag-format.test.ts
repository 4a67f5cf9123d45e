/**
 * docs/dag-format.md is the reference of the DAG format; this keeps it in step with the schema:
 * every field path of the JSON Schema has a `### \`path\`` section carrying the schema's own
 * description and a YAML example that uses the field and is valid; the page names no field the
 * schema lacks; and every diagnostic code the validator can emit is in "What the editor reports".
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { Dag } from '../../../schemas/dag';
import { renderDagJsonSchema } from '../../../schemas/generate';

const repoRoot = join(__dirname, '..', '..', '..');
const doc = readFileSync(join(repoRoot, 'docs', 'dag-format.md'), 'utf8');

type JsonSchema = Record<string, unknown>;
const isSchema = (value: unknown): value is JsonSchema => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Field paths of the JSON Schema (`tasks.<name>.resources.cpus`), each with its description. */
function schemaFields(schema: JsonSchema, path: string[] = [], fields = new Map<string, string>()): Map<string, string> {
  if (isSchema(schema.properties)) {
    for (const [name, child] of Object.entries(schema.properties)) {
      if (!isSchema(child)) continue;
      if (!fields.has([...path, name].join('.'))) fields.set([...path, name].join('.'), String(child.description ?? ''));
      schemaFields(child, [...path, name], fields);
    }
  }
  if (isSchema(schema.additionalProperties)) schemaFields(schema.additionalProperties, [...path, '<name>'], fields);
  if (isSchema(schema.items)) schemaFields(schema.items, path, fields);
  for (const key of ['anyOf', 'oneOf', 'allOf']) {
    const branches = schema[key];
    if (Array.isArray(branches)) for (const branch of branches) if (isSchema(branch)) schemaFields(branch, path, fields);
  }
  return fields;
}

interface Section {
  readonly path: string;
  readonly line: number;
  readonly body: string;
}

/** The `### \`path\`` sections of the page, each up to the next heading. */
function fieldSections(markdown: string): Section[] {
  const lines = markdown.split('\n');
  const sections: Section[] = [];
  lines.forEach((line, index) => {
    const match = /^### `([^`]+)`\s*$/.exec(line);
    if (!match) return;
    const end = lines.findIndex((next, at) => at > index && /^#{1,3} /.test(next));
    sections.push({ path: match[1]!, line: index + 1, body: lines.slice(index + 1, end < 0 ? undefined : end).join('\n') });
  });
  return sections;
}

function yamlBlocks(markdown: string): { text: string; line: number }[] {
  const blocks: { text: string; line: number }[] = [];
  const pattern = /^```yaml\n([\s\S]*?)^```$/gm;
  for (let match = pattern.exec(markdown); match; match = pattern.exec(markdown)) {
    blocks.push({ text: match[1]!, line: markdown.slice(0, match.index).split('\n').length });
  }
  return blocks;
}

/** True when `value` has something at `path`, `<name>` matching any key. */
function hasPath(value: unknown, path: readonly string[]): boolean {
  if (path.length === 0) return value !== undefined;
  if (!isSchema(value)) return false;
  const [head, ...rest] = path;
  if (head === '<name>') return Object.values(value).some((child) => hasPath(child, rest));
  return hasPath(value[head!], rest);
}

/** The string literals of `export type DiagnosticCode = | 'a' | 'b';` in the DAG service's types. */
function diagnosticCodes(): string[] {
  const source = readFileSync(join(repoRoot, 'agent', 'src', 'dag', 'types.ts'), 'utf8');
  const union = /export type DiagnosticCode =([^;]+);/.exec(source);
  assert.ok(union, 'agent/src/dag/types.ts no longer declares `export type DiagnosticCode = … ;`');
  return [...union[1]!.matchAll(/'([a-z-]+)'/g)].map((match) => match[1]!);
}

const fields = schemaFields(JSON.parse(renderDagJsonSchema()) as JsonSchema);
const sections = fieldSections(doc);

void describe('docs/dag-format.md against the schema', () => {
  void test('every field of the schema has its section', () => {
    assert.ok(fields.size > 30, `only ${fields.size} fields found in the schema: the walk is broken`);
    const documented = new Set(sections.map((section) => section.path));
    const missing = [...fields.keys()].filter((path) => !documented.has(path));
    assert.deepEqual(missing, [], 'fields of schemas/dag.ts without a `### `path`` section in docs/dag-format.md');
  });

  void test('the page documents no field the schema lacks', () => {
    const unknownSections = sections.filter((section) => !fields.has(section.path)).map((s) => `line ${s.line}: ${s.path}`);
    assert.deepEqual(unknownSections, [], 'sections for fields that schemas/dag.ts does not have');
    const topLevel = [...fields.keys()].filter((path) => !path.includes('.'));
    const dotted = new RegExp(`\`((?:${topLevel.join('|')})\\.[A-Za-z<>_.-]+)\``, 'g');
    const unknownMentions = [...doc.matchAll(dotted)].map((match) => match[1]!).filter((path) => !fields.has(path));
    assert.deepEqual(unknownMentions, [], 'field paths named in the text that schemas/dag.ts does not have');
  });

  void test('each section carries the schema description word for word', () => {
    for (const section of sections) {
      const description = fields.get(section.path);
      if (description === undefined) continue;
      assert.ok(description.length > 0, `${section.path} has no description in the schema`);
      assert.ok(
        section.body.includes(description),
        `docs/dag-format.md line ${section.line} (${section.path}) should carry the schema's description:\n  ${description}`,
      );
    }
  });

  void test('each section has a YAML example that uses its field and is a valid pipeline', () => {
    for (const section of sections) {
      const [example] = yamlBlocks(section.body);
      assert.ok(example, `docs/dag-format.md line ${section.line} (${section.path}) has no \`\`\`yaml example`);
      const value: unknown = parse(example.text);
      assert.ok(hasPath(value, section.path.split('.')), `the example of ${section.path} does not use ${section.path}`);
      // A fragment is completed with what every file needs, then checked by the real schema.
      const completed = { version: 1, tasks: { some_task: { run: 'true' } }, ...(value as Record<string, unknown>) };
      const parsed = Dag.safeParse(completed);
      assert.ok(parsed.success, `the example of ${section.path} is not valid: ${parsed.error?.message}`);
    }
  });

  void test('every YAML block parses, and every full pipeline on the page is valid', () => {
    const blocks = yamlBlocks(doc);
    assert.ok(blocks.length >= sections.length);
    for (const block of blocks) {
      const value: unknown = parse(block.text);
      if (isSchema(value) && value.version === 1 && 'tasks' in value) {
        const parsed = Dag.safeParse(value);
        assert.ok(parsed.success, `docs/dag-format.md line ${block.line}: ${parsed.error?.message}`);
      }
    }
  });

  void test('every diagnostic code is listed under "What the editor reports"', () => {
    const reports = doc.slice(doc.indexOf('## What the editor reports'));
    assert.ok(reports.length < doc.length, 'the page has no "## What the editor reports" section');
    const codes = diagnosticCodes();
    assert.ok(codes.length >= 10, `only ${codes.length} diagnostic codes found`);
    const missing = codes.filter((code) => !new RegExp(`^\\| \`${code}\` \\|`, 'm').test(reports));
    assert.deepEqual(missing, [], 'diagnostic codes without a row in the table');
  });
});
