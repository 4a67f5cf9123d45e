/**
 * Never crash, never hang: hostile and random input always yields diagnostics. Boundedness is
 * checked by counting work (instances expanded, diagnostics returned), never by timing.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MAX_DIAGNOSTICS, validateDag } from '../../../agent/src/dag/validate';
import type { DagDiagnostic } from '../../../agent/src/dag/types';
import { seededRandom } from './seeded-random';

const iris = readFileSync(join(__dirname, '..', '..', '..', 'examples', 'iris', 'iris.dag.yaml'), 'utf8');


function assertWellFormed(diagnostics: readonly DagDiagnostic[], text: string, label: string): void {
  assert.ok(diagnostics.length <= MAX_DIAGNOSTICS, `${label}: too many diagnostics`);
  const lines = text.split('\n').length;
  for (const diagnostic of diagnostics) {
    const { start, end } = diagnostic.range;
    assert.ok(start.line >= 0 && start.line < lines && end.line < lines, `${label}: range outside the text: ${JSON.stringify(diagnostic)}`);
    assert.ok(start.line < end.line || (start.line === end.line && start.character <= end.character), `${label}: reversed range`);
    assert.notEqual(diagnostic.code, 'internal-error', `${label}: ${diagnostic.message}`);
  }
}

const YAML_PIECES = ['\n', ' ', '  ', ':', '- ', '[', ']', '{', '}', ',', '"', "'", '&a ', '*a', '!!str ', '#', '|', '>', '---\n', '${params.', '${matrix.', '@', '\t', '?'];

void describe('hostile input', () => {
  void test('random bytes', () => {
    const next = seededRandom(1);
    for (let round = 0; round < 200; round++) {
      const length = Math.floor(next() * 400);
      const text = Array.from({ length }, () => String.fromCharCode(Math.floor(next() * 256))).join('');
      const { diagnostics } = validateDag(text);
      assertWellFormed(diagnostics, text, `random bytes, round ${round}`);
    }
  });

  void test('random mutations of the example (delete, duplicate, insert YAML punctuation)', () => {
    const next = seededRandom(2);
    for (let round = 0; round < 300; round++) {
      let text = iris;
      for (let edits = 1 + Math.floor(next() * 4); edits > 0; edits--) {
        const at = Math.floor(next() * text.length);
        const length = Math.floor(next() * 20);
        const choice = next();
        if (choice < 0.33) text = text.slice(0, at) + text.slice(at + length);
        else if (choice < 0.66) text = text.slice(0, at) + text.slice(at, at + length) + text.slice(at);
        else text = text.slice(0, at) + YAML_PIECES[Math.floor(next() * YAML_PIECES.length)]! + text.slice(at);
      }
      const { diagnostics } = validateDag(text);
      assertWellFormed(diagnostics, text, `mutation round ${round}`);
    }
  });

  void test('10,000-deep flow nesting is refused before the parser sees it', () => {
    for (const text of [`a: ${'['.repeat(10_000)}`, `a: ${'{a: '.repeat(10_000)}`, `${'- '.repeat(10_000)}x\n`]) {
      const { diagnostics } = validateDag(text);
      assert.deepEqual(diagnostics.map((d) => d.code), ['too-large']);
      assert.match(diagnostics[0]!.message, /nesting too deep/);
    }
  });

  void test('quotes cannot hide nesting from the depth guard', () => {
    const text = `a: ${'[ "]" '.repeat(10_000)}`;
    const { diagnostics } = validateDag(text);
    assert.equal(diagnostics[0]?.code, 'too-large');
  });

  void test('an alias bomb (billion laughs) is a diagnostic, not an expansion', () => {
    const lines = ['version: 1', 'l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]'];
    for (let level = 1; level < 10; level++) lines.push(`l${level}: &l${level} [${Array(9).fill(`*l${level - 1}`).join(', ')}]`);
    lines.push('tasks: { a: { run: x, env: { X: *l9 } } }');
    const { diagnostics } = validateDag(lines.join('\n'));
    const bomb = diagnostics.find((d) => d.code === 'too-large');
    assert.ok(bomb, JSON.stringify(diagnostics));
    assert.deepEqual([bomb.range.start.line, bomb.range.start.character], [2, 9]);
  });

  void test('a file over the size limit gets one too-large diagnostic on its first line', () => {
    const text = `version: 1\ntasks:\n${'  # padding padding padding padding padding padding padding padding\n'.repeat(160_000)}`;
    assert.ok(text.length > 10 * 1024 * 1024);
    const { diagnostics } = validateDag(text);
    assert.deepEqual(diagnostics.map((d) => [d.code, d.range.start.line, d.range.end.line]), [['too-large', 0, 0]]);
    assert.match(diagnostics[0]!.message, /file too large/);
  });

  void test('100,000 tasks: validated or refused, never expanded past the limits', () => {
    const lines = ['version: 1', 'tasks:'];
    for (let i = 0; i < 100_000; i++) lines.push(`  t${i}: {run: x}`);
    const text = lines.join('\n');
    const { diagnostics, model } = validateDag(text);
    assert.ok(diagnostics.length <= MAX_DIAGNOSTICS);
    if (diagnostics.some((d) => d.code === 'too-large')) assert.equal(model.instances.length, 0);
    else assert.equal(model.instances.length, 100_000);
  });

  void test('matrices expanding past the file-wide instance limit keep one instance each', () => {
    const axis = Array.from({ length: 100 }, (_, i) => i).join(', ');
    const lines = ['version: 1', 'tasks:'];
    for (let i = 0; i < 30; i++) lines.push(`  t${i}: { run: x, matrix: { a: [${axis}], b: [${axis}] } }`);
    const { diagnostics, model } = validateDag(lines.join('\n'), { limits: { maxInstances: 50_000 } });
    assert.ok(model.instances.length <= 50_000 + 30);
    assert.ok(diagnostics.some((d) => d.code === 'too-large'));
  });
});
