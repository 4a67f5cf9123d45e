/**
 * Every check of the validator, each pinned to the exact range of the offending YAML node
 * (0-based line and column, as LSP carries them).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { validateDag } from '../../../agent/src/dag/validate';
import type { DagDiagnostic, DiagnosticCode, WorkspaceProbe } from '../../../agent/src/dag/types';

interface Pinned {
  readonly code: DiagnosticCode;
  readonly range: [number, number, number, number];
}

function diag(code: DiagnosticCode, startLine: number, startCol: number, endLine: number, endCol: number): Pinned {
  return { code, range: [startLine, startCol, endLine, endCol] };
}

function pinned(diagnostics: readonly DagDiagnostic[]): Pinned[] {
  return diagnostics.map((d) => ({ code: d.code, range: [d.range.start.line, d.range.start.character, d.range.end.line, d.range.end.character] }));
}

function check(text: string, probe?: WorkspaceProbe): DagDiagnostic[] {
  return validateDag(text, probe ? { probe } : {}).diagnostics;
}

/** A file from lines (keeps the tests' line numbers readable: line N of the array is line N of the file). */
function dag(...lines: string[]): string {
  return `${lines.join('\n')}\n`;
}

const nothingOnDisk: WorkspaceProbe = { exists: () => false, isTracked: () => false };

void describe('validateDag', () => {
  void test('a valid file gives no diagnostics', () => {
    const text = dag(
      'version: 1',
      'params: { seed: 1 }',
      'environments:',
      '  py: { docker: { image: python } }',
      'defaults: { environment: py }',
      'tasks:',
      '  prep:',
      '    run: prep --seed ${params.seed}',
      '    outputs: [build/data/]',
      '  train:',
      '    matrix: { model: [rf, gb] }',
      '    run: train ${matrix.model}',
      '    inputs: [build/data/]',
      '    outputs: ["build/models/${matrix.model}.pkl"]',
    );
    assert.deepEqual(check(text, nothingOnDisk), []);
  });

  void test('YAML syntax errors sit where the parser stopped', () => {
    const text = dag('version: 1', 'tasks:', '  a: { run: x', '  b: "open');
    const found = pinned(check(text)).filter((d) => d.code === 'yaml-syntax');
    assert.ok(found.length > 0);
    assert.deepEqual(found[0], diag('yaml-syntax', 3, 2, 3, 3));
  });

  void test('a duplicate key is marked on the second occurrence of the key', () => {
    const text = dag('version: 1', 'tasks:', '  a:', '    run: x', '    run: y', '  b: { run: z }', '  a: { run: w }');
    const found = pinned(check(text)).filter((d) => d.code === 'duplicate-key');
    assert.deepEqual(found, [diag('duplicate-key', 4, 4, 4, 7), diag('duplicate-key', 6, 2, 6, 3)]);
  });

  void test('a duplicate key is found in a large mapping too (a set per mapping there, pairwise below 9 keys)', () => {
    const params = Array.from({ length: 12 }, (_, index) => `  p${index}: ${index}`);
    const text = dag('version: 1', 'params:', ...params, '  p3: again', 'tasks:', '  a: { run: "${params.p0}" }');
    const found = pinned(check(text)).filter((d) => d.code === 'duplicate-key');
    assert.deepEqual(found, [diag('duplicate-key', 14, 2, 14, 4)]);
  });

  void test('schema errors sit on the value, the unknown key, or the key of what lacks a required key', () => {
    const text = dag(
      'version: 2',
      'bogus: true',
      'tasks:',
      '  a:',
      '    run: x',
      '    retries: many',
      '    timeout: 5x',
      '    colour: red',
      '  b:',
      '    description: no run',
      '  "bad name": { run: x }',
      '  c: { run: x, needs: 5 }',
    );
    assert.deepEqual(pinned(check(text)), [
      diag('schema', 0, 9, 0, 10),
      diag('schema', 1, 0, 1, 5),
      diag('schema', 5, 13, 5, 17),
      diag('schema', 6, 13, 6, 15),
      diag('schema', 7, 4, 7, 10),
      diag('schema', 8, 2, 8, 3),
      diag('schema', 10, 2, 10, 12),
      diag('schema', 11, 22, 11, 23),
    ]);
    const messages = check(text).map((d) => d.message);
    assert.ok(messages.includes('unknown key "colour" in task "a"'), messages.join('\n'));
    assert.ok(messages.includes('missing required key "run" in task "b"'), messages.join('\n'));
  });

  void test('an environment declaring two kinds is an error on its key', () => {
    const text = dag('version: 1', 'environments:', '  both: { local: true, venv: { requirements: r.txt } }', 'tasks:', '  a: { run: x, environment: both }');
    assert.deepEqual(pinned(check(text)), [diag('schema', 2, 2, 2, 6)]);
  });

  void test('a cycle is named in full on each of its edges, with the other edges as related information', () => {
    const text = dag(
      'version: 1',
      'tasks:',
      '  a: { run: x, needs: [b] }',
      '  b: { run: x, needs: [c] }',
      '  c: { run: x, needs: [a] }',
    );
    const diagnostics = check(text);
    assert.deepEqual(pinned(diagnostics), [diag('cycle', 2, 23, 2, 24), diag('cycle', 3, 23, 3, 24), diag('cycle', 4, 23, 4, 24)]);
    assert.deepEqual(
      diagnostics.map((d) => d.message),
      ['dependency cycle: a → b → c → a', 'dependency cycle: b → c → a → b', 'dependency cycle: c → a → b → c'],
    );
    assert.deepEqual(
      diagnostics[0]!.related!.map((r) => [r.range.start.line, r.range.start.character, r.message]),
      [
        [3, 23, 'b needs c'],
        [4, 23, 'c needs a'],
      ],
    );
  });

  void test('data edges count for cycles: the edge is marked on the input', () => {
    const text = dag(
      'version: 1',
      'tasks:',
      '  a:',
      '    run: x',
      '    inputs: [build/b.txt]',
      '    outputs: [build/a/]',
      '  b:',
      '    run: x',
      '    inputs: [build/a/part.csv]',
      '    outputs: [build/b.txt]',
    );
    const diagnostics = check(text);
    assert.deepEqual(pinned(diagnostics), [diag('cycle', 4, 13, 4, 24), diag('cycle', 8, 13, 8, 29)]);
    assert.equal(diagnostics[0]!.message, 'dependency cycle: a → b → a');
  });

  void test('a task needing itself is a cycle of one', () => {
    assert.deepEqual(pinned(check(dag('version: 1', 'tasks:', '  a: { run: x, needs: a }'))), [diag('cycle', 2, 22, 2, 23)]);
  });

  void test('needs naming no task; needs naming a matrix task means all its instances', () => {
    const text = dag(
      'version: 1',
      'tasks:',
      '  train: { run: x, matrix: { m: [1, 2] }, outputs: ["m${matrix.m}"] }',
      '  pick: { run: x, needs: [train, trian, "train@2", train@3] }',
    );
    const result = validateDag(text);
    assert.deepEqual(pinned(result.diagnostics), [diag('unknown-need', 3, 33, 3, 38), diag('unknown-need', 3, 51, 3, 58)]);
    assert.match(result.diagnostics[0]!.message, /did you mean "train"/);
    const pick = result.model.instancesByName.get('pick')!;
    assert.deepEqual(
      result.graph.dependencies[pick.index]!.map((index) => result.graph.instances[index]!.name),
      ['train@1', 'train@2'],
    );
  });

  void test("an undefined environment, the task's or the defaults'", () => {
    const text = dag(
      'version: 1',
      'environments: { py: { local: true } }',
      'defaults: { environment: pyy }',
      'tasks:',
      '  a: { run: x, environment: conda }',
      '  b: { run: x, environment: py }',
    );
    assert.deepEqual(pinned(check(text)), [diag('unknown-environment', 2, 25, 2, 28), diag('unknown-environment', 4, 28, 4, 33)]);
  });

  void test('two tasks writing the same output, or one inside the other, with related information', () => {
    const text = dag(
      'version: 1',
      'tasks:',
      '  a: { run: x, outputs: [build/] }',
      '  b: { run: x, outputs: [build/x.pkl, out.txt] }',
      '  c: { run: x, outputs: [./out.txt] }',
    );
    const diagnostics = check(text);
    assert.deepEqual(pinned(diagnostics), [
      diag('output-conflict', 2, 25, 2, 31),
      diag('output-conflict', 3, 25, 3, 36),
      diag('output-conflict', 3, 38, 3, 45),
      diag('output-conflict', 4, 25, 4, 34),
    ]);
    assert.equal(diagnostics[1]!.message, 'build/x.pkl is inside build/, which a writes');
    assert.deepEqual(diagnostics[1]!.related!.map((r) => [r.range.start.line, r.range.start.character]), [[2, 25]]);
    assert.equal(diagnostics[2]!.message, 'out.txt is also written by c');
  });

  void test('a matrix task whose output does not vary with the matrix writes one path twice', () => {
    const text = dag('version: 1', 'tasks:', '  t: { run: x, matrix: { m: [1, 2] }, outputs: [model.pkl] }');
    const diagnostics = check(text);
    assert.deepEqual(pinned(diagnostics), [diag('output-conflict', 2, 48, 2, 57)]);
    assert.match(diagnostics[0]!.message, /t@1 and t@2 both write model\.pkl/);
  });

  void test('an input nothing produces, absent and untracked, is a warning; present or tracked inputs are not', () => {
    const text = dag(
      'version: 1',
      'tasks:',
      '  a: { run: x, outputs: [build/] }',
      '  b: { run: x, inputs: [build/f.csv, data/raw.csv, data/tracked/x.csv, src/b.py] }',
    );
    const probe: WorkspaceProbe = { exists: (path) => path === 'src/b.py', isTracked: (path) => path.startsWith('data/tracked/') };
    const diagnostics = check(text, probe);
    assert.deepEqual(pinned(diagnostics), [diag('missing-input', 3, 37, 3, 49)]);
    assert.equal(diagnostics[0]!.severity, 'warning');
  });

  void test('undefined ${params.x} and ${matrix.x} are marked on the reference; an unused param is a hint on its key', () => {
    const text = dag(
      'version: 1',
      'params: { seed: 1, unused: 2 }',
      'tasks:',
      '  a:',
      '    matrix: { model: [rf] }',
      '    run: go ${params.seed} ${params.sede} ${matrix.modle}',
    );
    const diagnostics = check(text);
    assert.deepEqual(pinned(diagnostics), [
      diag('unused-param', 1, 19, 1, 25),
      diag('undefined-param', 5, 27, 5, 41),
      diag('undefined-matrix', 5, 42, 5, 57),
    ]);
    assert.equal(diagnostics[0]!.severity, 'hint');
    assert.match(diagnostics[1]!.message, /did you mean "seed"/);
  });

  void test('${…} inside block scalars and quoted strings is located exactly', () => {
    const text = dag('version: 1', 'tasks:', '  a:', '    run: |', '      echo start', '      echo "${params.nope}"', '    outputs: ["x/${matrix.m}"]');
    assert.deepEqual(pinned(check(text)), [diag('undefined-param', 5, 12, 5, 26), diag('undefined-matrix', 6, 17, 6, 28)]);
  });

  void test('an empty file says what a pipeline needs', () => {
    const diagnostics = check('');
    assert.deepEqual(pinned(diagnostics), [diag('schema', 0, 0, 0, 0)]);
  });

  void test('a too-large matrix is refused on its first axis instead of expanding', () => {
    const values = Array.from({ length: 30 }, (_, i) => i).join(', ');
    const text = dag('version: 1', 'tasks:', '  t:', '    run: x', `    matrix: { a: [${values}], b: [${values}], c: [${values}] }`);
    const result = validateDag(text);
    assert.deepEqual(pinned(result.diagnostics), [diag('too-large', 4, 14, 4, 15)]);
    assert.equal(result.model.instances.length, 1);
  });
});
