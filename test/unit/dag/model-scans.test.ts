/**
 * The model's hand-written scans must answer what the general code they replace answers: finding
 * `${params.x}` / `${matrix.x}` without a regex (against `matchAll` of the template pattern) and
 * normalising paths without `posix.normalize` when it would change nothing (against it). Random
 * strings built from the pieces that matter, so a failure names a seed.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { posix } from 'node:path';
import { nextTemplate, normalisePath } from '../../../agent/src/dag/model';
import { seededRandom } from './seeded-random';

const TEMPLATE = /\$\{(params|matrix)\.([^}\s]*)\}/g;

function randomText(pieces: readonly string[], next: () => number): string {
  let text = '';
  const count = Math.floor(next() * 12);
  for (let index = 0; index < count; index++) text += pieces[Math.floor(next() * pieces.length)]!;
  return text;
}

const TEMPLATE_PIECES = ['${', 'params.', 'matrix.', 'param.', '}', '{', '$', 'seed', 'x', ' ', '\t', '\u00a0', '\u2003', '\n', '.', '-', 'é', '${params.seed}', '${matrix.model}'];
const PATH_PIECES = ['a', 'b.csv', '/', '//', '.', '..', './', '../', '\\', '.a', 'a.', '...', '${matrix.model}', ' '];

void describe('hand-written scans of the model', () => {
  void test('templates: the same matches as the regex, inside any window of the text', () => {
    for (let seed = 1; seed <= 4000; seed++) {
      const next = seededRandom(seed);
      const text = randomText(TEMPLATE_PIECES, next);
      const from = Math.floor(next() * (text.length + 1));
      const to = from + Math.floor(next() * (text.length - from + 1));
      const expected = [...text.slice(from, to).matchAll(TEMPLATE)].map((match) => [from + match.index, match[0].length, match[1], match[2]]);
      const found: unknown[] = [];
      for (let match = nextTemplate(text, from, to); match; match = nextTemplate(text, match.end, to)) {
        found.push([match.start, match.end - match.start, match.kind, text.slice(match.nameStart, match.end - 1)]);
      }
      assert.deepEqual(found, expected, `seed ${seed}: ${JSON.stringify(text)} [${from}, ${to})`);
    }
  });

  void test('paths: the same as posix.normalize', () => {
    const reference = (raw: string): { path: string; directory: boolean } => {
      let path = posix.normalize(raw.replaceAll('\\', '/'));
      if (path.endsWith('/')) path = path.slice(0, -1);
      return { path: path === '.' ? '' : path, directory: raw.endsWith('/') };
    };
    for (let seed = 1; seed <= 4000; seed++) {
      const raw = randomText(PATH_PIECES, seededRandom(seed));
      assert.deepEqual(normalisePath(raw), reference(raw), `seed ${seed}: ${JSON.stringify(raw)}`);
    }
  });
});
