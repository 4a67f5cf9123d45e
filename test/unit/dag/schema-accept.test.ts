/**
 * The hand-specialised task check (agent/src/dag/schema-accept.ts) may only accept what zod accepts,
 * and schema checking in parts (the file without its tasks, then each task, accepted ones skipping
 * zod) must give exactly the diagnostics of zod on the whole file. Differential testing on random
 * edits aimed at task values — numbers at and past their bounds, wrong types, unknown and repeated
 * keys, odd names — with zod as the oracle.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isMap, YAMLMap, type Pair } from 'yaml';
import { Dag } from '../../../schemas/dag';
import { keyText, parseDagDocument } from '../../../agent/src/dag/document';
import { taskEntryConforms } from '../../../agent/src/dag/schema-accept';
import { schemaDiagnostics, wholeFileSchemaDiagnostics } from '../../../agent/src/dag/schema-check';
import type { DagDiagnostic } from '../../../agent/src/dag/types';
import { generateDag } from '../../../bench/validate-core';
import { seededRandom } from './seeded-random';

const iris = readFileSync(join(__dirname, '..', '..', '..', 'examples', 'iris', 'iris.dag.yaml'), 'utf8');

const VALUES = [
  '0', '-1', '1', '1.5', '5.0', '100', '101', '1e999', '-.5', '9007199254740993', 'all', 'true', 'False', 'null', '~', '""', "''", 'x',
  '[]', '{}', '[a, 1]', '[rf, gb]', '[true, 2.5]', '[null]', '[[a]]', '{ a: 1 }', '{ A: b }', '30m', '90s', '2h', '1.5d', '30x', '4g', '512',
  '512mb', '4G', '1tb', '__proto__', 'a@b', '"quoted"', '[""]', '[a, ""]', '|\n      literal',
];
const KEYS = [
  'description', 'run', 'needs', 'environment', 'inputs', 'outputs', 'metrics', 'matrix', 'env', 'cache', 'retries', 'timeout',
  'resources', 'priority', 'bogus', '__proto__', 'Run', '"run"',
];
const NAMES = ['t1', 'a-b', '_x', '1t', 't@x', '__proto__', 'é', '"t 1"', 'constructor'];

function pick<T>(items: readonly T[], next: () => number): T {
  return items[Math.floor(next() * items.length)]!;
}

/** A random line of a task: a field with a random value, or a nested record or object with one. */
function taskLine(next: () => number): string {
  const value = pick(VALUES, next);
  switch (Math.floor(next() * 6)) {
    case 0:
      return `    resources: { ${pick(['cpus', 'memory', 'gpus', 'disk'], next)}: ${value} }`;
    case 1:
      return `    matrix: { ${pick(NAMES, next)}: ${value} }`;
    case 2:
      return `    env: { ${pick(NAMES, next)}: ${value} }`;
    default:
      return `    ${pick(KEYS, next)}: ${value}`;
  }
}

/** One edit of a task: a line replaced or added, a line removed, or a task renamed. */
function edit(text: string, next: () => number): string {
  const lines = text.split('\n');
  const taskLines = lines.map((line, index) => (line.startsWith('    ') ? index : -1)).filter((index) => index >= 0);
  const line = pick(taskLines, next);
  const choice = next();
  if (choice < 0.4) lines[line] = taskLine(next);
  else if (choice < 0.7) lines.splice(line, 0, taskLine(next));
  else if (choice < 0.85) lines.splice(line, 1);
  else {
    const keyLine = lines.findIndex((each, index) => index >= line && /^ {2}\S.*:$/.test(each));
    if (keyLine >= 0) lines[keyLine] = `  ${pick(NAMES, next)}:`;
  }
  return lines.join('\n');
}

function taskEntries(text: string): readonly Pair[] {
  const root = parseDagDocument(text).yaml?.contents;
  const tasks = isMap(root) ? root.items.find((pair) => keyText(pair) === 'tasks')?.value : undefined;
  return isMap(tasks) ? (tasks.items as Pair[]) : [];
}

function zodAccepts(pair: Pair): boolean {
  const single = new YAMLMap();
  single.items.push(pair);
  return Dag.shape.tasks.safeParse(single.toJS(parseDagDocument('').yaml!)).success;
}

/** Diagnostics in one order (checking in parts may list issues at different places in another order). */
function sorted(diagnostics: readonly DagDiagnostic[]): DagDiagnostic[] {
  const key = (diagnostic: DagDiagnostic): string => JSON.stringify([diagnostic.range, diagnostic.message, diagnostic.related ?? null]);
  return [...diagnostics].sort((left, right) => key(left).localeCompare(key(right)));
}

void describe('schema checks in parts with the hand-specialised accept', () => {
  void test('every task of the benchmark file and the example is accepted without zod', () => {
    for (const [label, text] of [['benchmark', generateDag(200)], ['iris', iris]] as const) {
      const entries = taskEntries(text);
      assert.ok(entries.length > 0, label);
      for (const pair of entries) assert.ok(taskEntryConforms(pair), `${label}: task ${keyText(pair)} goes to zod`);
    }
  });

  void test('random task edits: accepted only when zod accepts, and the same diagnostics as zod on the whole file', () => {
    const counts = { accepted: 0, rejectedValid: 0, rejectedInvalid: 0, simple: 0, withSchemaErrors: 0 };
    for (let seed = 1; seed <= 6; seed++) {
      const next = seededRandom(seed);
      const start = seed % 2 === 0 ? iris : generateDag(12);
      let text = start;
      for (let step = 0; step < 250; step++) {
        text = step % 25 === 0 ? start : edit(text, next);
        const label = `seed ${seed}, step ${step}`;
        const document = parseDagDocument(text);
        if (!document.simple) continue;
        counts.simple++;
        for (const pair of taskEntries(text)) {
          const zod = zodAccepts(pair);
          if (taskEntryConforms(pair)) {
            assert.ok(zod, `${label}: task ${keyText(pair)} accepted, but zod finds issues:\n${text}`);
            counts.accepted++;
          } else if (zod) counts.rejectedValid++;
          else counts.rejectedInvalid++;
        }
        const whole = wholeFileSchemaDiagnostics(document);
        if (whole.length > 0) counts.withSchemaErrors++;
        assert.deepEqual(sorted(schemaDiagnostics(document)), sorted(whole), `${label}: diagnostics differ`);
      }
    }
    // The comparison means something only if all three answers occurred often.
    assert.ok(counts.accepted > 1000 && counts.rejectedInvalid > 200 && counts.withSchemaErrors > 200, JSON.stringify(counts));
  });
});
