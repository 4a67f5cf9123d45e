/**
 * The fast path (agent/src/dag/fast-yaml.ts) must build what `yaml` builds wherever it answers:
 * the same data, the same node kinds and scalar styles, the same `range` of every node. Checked on
 * the example, the benchmark's generated file, hand-written shapes, and thousands of random
 * mutations of them (differential testing: `yaml` is the oracle). Where the fast path gives up,
 * `yaml` parses and reports — that is checked too, for shapes it must never accept.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isMap, isPair, isScalar, isSeq, parseDocument, type Node } from 'yaml';
import { parseSimpleYaml } from '../../../agent/src/dag/fast-yaml';
import { generateDag } from '../../../bench/validate-core';

const example = readFileSync(join(__dirname, '..', '..', '..', 'examples', 'iris', 'iris.dag.yaml'), 'utf8');

/** A canonical description of a node tree: kind, style, value and range of every node. */
function describe(node: unknown): unknown {
  if (node === null || node === undefined) return null;
  if (isScalar(node)) return { scalar: node.value, type: node.type, range: node.range };
  if (isMap(node)) {
    return {
      map: node.items.map((pair) => (isPair(pair) ? [describe(pair.key), describe(pair.value)] : 'not a pair')),
      flow: Boolean(node.flow),
      range: node.range,
    };
  }
  if (isSeq(node)) return { seq: node.items.map((item) => describe(item)), flow: Boolean(node.flow), range: node.range };
  return { other: String(node) };
}

/** Asserts agreement when the fast path answers; returns whether it did. */
function agrees(text: string, label: string): boolean {
  const fast = parseSimpleYaml(text);
  if (!fast) return false;
  const slow = parseDocument(text, { uniqueKeys: false });
  assert.equal(slow.errors.length, 0, `${label}: the fast path accepted text yaml calls an error: ${slow.errors[0]?.message}`);
  assert.deepEqual(describe(fast.contents as Node), describe(slow.contents as Node), `${label}: trees differ`);
  assert.deepEqual(fast.toJS(), slow.toJS(), `${label}: data differs`);
  return true;
}

/** A small deterministic PRNG, so a failure names a seed that reproduces it. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

const PIECES = [' ', '\n', '  ', '- ', ': ', '#', '"', "'", '[', ']', '{', '}', ',', '|', '|-', '>', '&a', '*a', '!!str ', '\t', '\\', 'x', '1', '0x1', '~', 'null', 'true', '---\n', '?', '@', '%', '\r\n', '${params.seed}', 'é'];

function mutate(text: string, next: () => number): string {
  let result = text;
  const edits = 1 + Math.floor(next() * 3);
  for (let index = 0; index < edits; index++) {
    const at = Math.floor(next() * (result.length + 1));
    const choice = next();
    if (choice < 0.4) result = result.slice(0, at) + PIECES[Math.floor(next() * PIECES.length)]! + result.slice(at);
    else if (choice < 0.7) result = result.slice(0, at) + result.slice(at + 1 + Math.floor(next() * 4));
    else {
      // Move a line's indentation, the commonest real edit in YAML.
      const lineStart = result.lastIndexOf('\n', at - 1) + 1;
      result = next() < 0.5 ? `${result.slice(0, lineStart)}  ${result.slice(lineStart)}` : result.slice(0, lineStart) + result.slice(lineStart).replace(/^ {1,2}/, '');
    }
  }
  return result;
}

void test('the example and the 5,000-task benchmark file take the fast path and agree with yaml', () => {
  assert.ok(agrees(example, 'example'), 'the example should take the fast path');
  assert.ok(agrees(generateDag(300), 'generated'), 'the generated DAG should take the fast path');
});

void test('hand-written shapes agree with yaml wherever the fast path answers', () => {
  const shapes = [
    'a: 1\nb: [x, "y", \'z\']\nc: {k: v, n: 2}\n',
    'tasks:\n  t:\n    run: |\n      echo 1\n\n      echo 2\n    needs: []\n',
    'tasks:\n  t:\n    run: |-\n      echo 1\n    outputs:\n    - a\n    - b\n',
    'list:\n- a: 1\n  b: 2\n- c\n',
    'k: v # comment\n# whole line\nn: ~\nf: 1.5e3\nb: false\n',
    "q: 'it''s'\nd: \"plain\"\n",
    'a:\n  - [1, [2, 3]]\n  - {x: [y]}\n',
    'empty_flow: []\nempty_map: {}\n',
    'url: http://x.y/z\ntime: 12:30\n',
    'nested:\n  deeper:\n    deepest: 1\n  back: 2\nroot: 3\n',
  ];
  for (const [index, shape] of shapes.entries()) agrees(shape, `shape ${index}`);
});

void test('shapes the fast path must leave to yaml: it gives up rather than guess', () => {
  const refused = [
    'a: &x 1\nb: *x\n',
    'a: !!str 1\n',
    '---\na: 1\n---\nb: 2\n',
    'a:\tb\n',
    'a: 1\r\nb: 2\r\n',
    'a: multi\n  line\n',
    'a: "escaped\\n"\n',
    'a: >\n  folded\n',
    'a: 1\n  b: 2\n',
    'a: [1, 2,]\n',
    'a: b: c\n',
    '? complex\n: key\n',
    'a:\n',
    'a: 0x1F\n',
  ];
  for (const text of refused) assert.equal(parseSimpleYaml(text), undefined, `should give up on ${JSON.stringify(text)}`);
});

void test('3,000 random mutations of real DAG files: wherever the fast path answers, it agrees with yaml', () => {
  const sources = [example, generateDag(20)];
  let answered = 0;
  for (let seed = 1; seed <= 3000; seed++) {
    const next = random(seed);
    const text = mutate(sources[seed % sources.length]!, next);
    if (agrees(text, `seed ${seed}: ${JSON.stringify(text.slice(0, 80))}…`)) answered++;
  }
  // Most mutations keep the text simple YAML; if the fast path answered almost none, this test would prove nothing.
  assert.ok(answered > 300, `the fast path answered only ${answered} of 3,000 mutations`);
});
