/**
 * Incremental validation (agent/src/dag/incremental.ts) must give exactly what a full validation
 * gives: differential testing on sequences of random edits — line edits, inserted and deleted
 * lines, renamed tasks, new cycles, conflicting outputs — to generated DAGs and the example. After
 * every edit the diagnostics (message, code, severity, every range, related ranges) and a summary of
 * the model and graph must be equal to validateDag's on the same text; and most edits must really
 * have taken the incremental path, or the comparison proves nothing.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { IncrementalValidator, type ValidationMode } from '../../../agent/src/dag/incremental';
import type { WorkspaceProbe } from '../../../agent/src/dag/types';
import { validateDag, type ValidationResult } from '../../../agent/src/dag/validate';
import { generateDag as generateCoreDag } from '../../../bench/validate-core';
import { generateDag as generateLspDag } from '../../../bench/validate-lsp';
import { seededRandom } from './seeded-random';

const iris = readFileSync(join(__dirname, '..', '..', '..', 'examples', 'iris', 'iris.dag.yaml'), 'utf8');

/** Some inputs exist, some are tracked, the rest are missing: all three kinds of answer occur. */
const probe: WorkspaceProbe = {
  exists: (path) => path.startsWith('src/') || path.startsWith('data/iris'),
  isTracked: (path) => path.startsWith('data/raw'),
};


/** Everything the model and graph say that a consumer could see, positions included. */
function summary(result: ValidationResult): unknown {
  const { model, graph } = result;
  const at = (located: { span: { start: number; end: number }; range: unknown }) => [located.span.start, located.span.end, located.range];
  return {
    tasks: [...model.tasks.values()].map((task) => ({
      name: task.name,
      key: at(task.key),
      whole: at(task.whole),
      run: task.run ? [...at(task.run), task.run.text] : null,
      environment: task.environment ? [...at(task.environment), task.environment.target?.name] : null,
      matrix: task.matrix.map((axis) => [axis.name, at(axis.key), axis.values.map((value) => [...at(value), value.text])]),
      paths: [...task.inputs, ...task.outputs, ...task.metrics].map((entry) => [entry.kind, entry.raw, ...at(entry)]),
      templates: task.templates.map((ref) => [ref.kind, ref.name, ...at(ref), at(ref.nameAt)]),
      instances: task.instances.map((instance) => instance.index),
      tooLarge: task.matrixTooLarge ?? null,
    })),
    instances: model.instances.map((instance) => [instance.index, instance.name, instance.task.name, instance.inputs.map((input) => input.path), instance.outputs.map((output) => output.path)]),
    byName: [...model.instancesByName].map(([name, instance]) => [name, instance.index]),
    needs: model.needRefs.map((ref) => [ref.name, ref.task.name, ...at(ref), ref.targetTask?.name, ref.targets.map((target) => target.index)]),
    environmentRefs: model.environmentRefs.map((ref) => [ref.name, ref.task?.name, ...at(ref)]),
    templateRefs: model.templateRefs.map((ref) => [ref.kind, ref.name, ref.task.name, ...at(ref)]),
    symbols: symbolsOf(result),
    dependencies: graph.dependencies,
  };
}

/** What symbolAt answers at 101 offsets spread over the text. */
function symbolsOf(result: ValidationResult): unknown[] {
  const found: unknown[] = [];
  const length = result.model.document.text.length;
  for (let offset = 0; offset < length; offset += Math.max(1, Math.floor(length / 100))) {
    const symbol = result.model.symbolAt(offset);
    found.push(symbol ? symbol.kind : null);
  }
  return found;
}

/** Lines users write in tasks, good and bad. */
const LINES = [
  '    run: python src/train.py --seed ${params.seed}',
  '    run: python x.py --model ${matrix.model}',
  '    run: ${params.nope} and ${matrix.nope}',
  '    run: 42',
  '    needs: [t3]',
  '    needs: [t40, t2@rf]',
  '    needs: nothing-here',
  '    inputs: [build/t5/out.csv, data/raw/x.csv, missing/file]',
  '    inputs:',
  '      - build/t7/',
  '    outputs: [build/t9/out.csv]',
  '    outputs: ["build/t${params.seed}/${matrix.model}.pkl"]',
  '    matrix: { model: [rf, gb, lr] }',
  '    matrix: { model: [] }',
  '    environment: py',
  '    environment: gpu',
  '    env: { A: "${params.test_size}" }',
  '    cache: maybe',
  '    retries: 3',
  '    description: |',
  '      a literal block',
  '    # a comment',
  '  # a shallower comment',
  '',
  '   ',
  '    - dangling',
  '  t_new:',
  '  t_new: { run: echo }',
  '    run: "quoted ${params.seed}"',
  "    run: 'single'",
  '    run: a: b',
  '    unknown: key',
  '    run: x # trailing comment',
  '\ttab',
  '  t1:',
];

const PIECES = [' ', 'x', '1', ':', ': ', '- ', '#', '"', "'", '[', ']', '{', '}', ',', '${params.seed}', '${matrix.model}', '@rf', 't1', '\n', '\n    ', '/'];

function pick<T>(items: readonly T[], next: () => number): T {
  return items[Math.floor(next() * items.length)]!;
}

/** One random edit, mostly inside tasks (the case the incremental path is for), sometimes anywhere. */
function edit(text: string, next: () => number): string {
  const lines = text.split('\n');
  const line = Math.floor(next() * lines.length);
  const choice = next();
  if (choice < 0.3) {
    // Change part of a line.
    const current = lines[line]!;
    const at = Math.floor(next() * (current.length + 1));
    const removed = next() < 0.5 ? Math.floor(next() * 4) : 0;
    lines[line] = current.slice(0, at) + (next() < 0.8 ? pick(PIECES, next) : '') + current.slice(at + removed);
  } else if (choice < 0.5) {
    lines[line] = pick(LINES, next);
  } else if (choice < 0.7) {
    lines.splice(line, 0, pick(LINES, next));
  } else if (choice < 0.85) {
    lines.splice(line, 1 + Math.floor(next() * 2));
  } else if (choice < 0.92) {
    // Rename a task (its key line), or indent it.
    const keyLine = lines.findIndex((each, index) => index >= line && /^ {2}[\w-]+:/.test(each));
    if (keyLine >= 0) lines[keyLine] = next() < 0.7 ? lines[keyLine]!.replace(/^ {2}([\w-]+):/, `  $1${pick(['x', '', 'y'], next)}:`) : ` ${lines[keyLine]!}`;
  } else {
    // The same line edited twice (typing), or a run line made longer.
    const runLine = lines.findIndex((each, index) => index >= line && each.startsWith('    run:'));
    if (runLine >= 0) lines[runLine] = `${lines[runLine]!} --step ${Math.floor(next() * 100)}`;
  }
  return lines.join('\n');
}

function checkSequence(start: string, seed: number, edits: number): Record<ValidationMode, number> {
  const next = seededRandom(seed);
  const validator = new IncrementalValidator({ probe: () => probe });
  const modes: Record<ValidationMode, number> = { full: 0, entry: 0, unchanged: 0 };
  const compare = (text: string, label: string): ValidationResult => {
    const incremental = validator.validate(text);
    const full = validateDag(text, { probe });
    assert.deepEqual(incremental.diagnostics, full.diagnostics, `${label} (${validator.lastMode}): diagnostics differ`);
    assert.deepEqual(summary(incremental), summary(full), `${label} (${validator.lastMode}): model differs`);
    return full;
  };
  let text = start;
  let lastTaken = start;
  compare(text, `seed ${seed}, start`);
  for (let step = 1; step <= edits; step++) {
    text = step % 50 === 0 ? start : edit(text, next);
    compare(text, `seed ${seed}, step ${step}`);
    modes[validator.lastMode]++;
    if (validator.lastMode !== 'full') {
      lastTaken = text;
    } else if (next() < 0.8) {
      // Most edits the incremental path could not take (YAML off the fast path, duplicate task
      // names, entries merged…) are undone, so that most edits land in text it can take.
      text = lastTaken;
      compare(text, `seed ${seed}, step ${step}, undone`);
    }
  }
  return modes;
}

void describe('incremental validation equals full validation', () => {
  void test('random edits to the benchmark DAGs (flow lists, block lists, matrices, data edges)', (t) => {
    const totals: Record<ValidationMode, number> = { full: 0, entry: 0, unchanged: 0 };
    const starts = [generateCoreDag(40), generateLspDag(40).text];
    for (let seed = 1; seed <= 4; seed++) {
      const modes = checkSequence(starts[seed % 2]!, seed, 300);
      for (const mode of Object.keys(totals) as ValidationMode[]) totals[mode] += modes[mode];
    }
    t.diagnostic(`validations after an edit: ${JSON.stringify(totals)}`);
    // Most edits must have gone the incremental way (else this test would compare full with full).
    assert.ok(totals.entry > totals.full / 2, `only ${totals.entry} incremental validations against ${totals.full} full: ${JSON.stringify(totals)}`);
  });

  void test('random edits to the example and to a file with errors everywhere', () => {
    const broken = [
      'version: 1',
      'params: { seed: 1, unused: 2 }',
      'environments:',
      '  py: { docker: { image: python } }',
      '  both: { docker: { image: x }, conda: env.yml }',
      'tasks:',
      '  a:',
      '    run: echo ${params.seed} ${params.nope}',
      '    needs: [c]',
      '    outputs: [build/x/]',
      '  b:',
      '    run: echo',
      '    needs: [a, ghost]',
      '    outputs: [build/x/y.csv]',
      '    environment: gpu',
      '  c:',
      '    matrix: { m: [1, 2] }',
      '    run: echo ${matrix.m} ${matrix.k}',
      '    needs: [b]',
      '    inputs: [missing.csv, data/raw/r.csv]',
      '    outputs: [build/same.csv]',
      '  d:',
      '    run: 42',
      '    retries: many',
      '  e:',
      '    run: echo',
      '    outputs: [build/same.csv]',
      '',
    ].join('\n');
    for (let seed = 100; seed < 106; seed++) checkSequence(seed % 2 === 0 ? iris : broken, seed, 200);
  });

  void test('an edit in one task of an unchanged file re-checks the workspace (a new probe each time)', () => {
    let present = false;
    const validator = new IncrementalValidator({ probe: () => ({ exists: () => present, isTracked: () => false }) });
    const text = ['version: 1', 'tasks:', '  a:', '    run: echo', '    inputs: [data.csv]', '  b:', '    run: echo', ''].join('\n');
    assert.equal(validator.validate(text).diagnostics.length, 1);
    present = true;
    assert.equal(validator.validate(text).diagnostics.length, 0);
    assert.equal(validator.lastMode, 'unchanged');
    const edited = text.replace('    run: echo\n    inputs', '    run: echo hi\n    inputs');
    assert.equal(validator.validate(edited).diagnostics.length, 0);
    assert.equal(validator.lastMode, 'entry');
  });
});
