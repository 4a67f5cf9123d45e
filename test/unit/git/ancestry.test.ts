/**
 * ancestry.ts on synthetic histories: ahead/behind and reachability against a brute-force set
 * difference of full ancestries, over random DAGs with merges and several roots (the walk stops
 * early, so this checks that stopping never loses a one-sided commit).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Ancestry, parseCommitGraph, parseFormattedRevList } from '../../../agent/src/git/ancestry';

/** A seeded generator, so a failure is reproducible. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/** rev-list --parents style text for a random DAG: commit i's parents are earlier commits. */
function randomHistory(count: number, next: () => number): { text: string; parents: number[][] } {
  const parents: number[][] = [];
  for (let index = 0; index < count; index++) {
    const own: number[] = [];
    if (index > 0 && next() > 0.03) {
      // Mostly near the tip of some line of work, sometimes far back; a fifth are merges (some octopus).
      own.push(Math.max(0, index - 1 - Math.floor(next() * (next() < 0.8 ? 4 : index))));
      while (next() < 0.2 && own.length < 4) {
        const other = Math.floor(next() * index);
        if (!own.includes(other)) own.push(other);
      }
    }
    parents.push(own);
  }
  const sha = (index: number): string => index.toString(16).padStart(40, '0');
  // Newest first, as rev-list prints; the order must not matter, so shuffle a little too.
  const order = [...parents.keys()].reverse();
  for (let index = 0; index + 1 < order.length; index += 2)
    if (next() < 0.3) [order[index], order[index + 1]] = [order[index + 1]!, order[index]!];
  const text = order.map((index) => [sha(index), ...parents[index]!.map(sha)].join(' ')).join('\n') + '\n';
  return { text, parents };
}

function ancestors(parents: number[][], tip: number): Set<number> {
  const seen = new Set([tip]);
  const stack = [tip];
  while (stack.length > 0) {
    for (const parent of parents[stack.pop()!]!) {
      if (seen.has(parent)) continue;
      seen.add(parent);
      stack.push(parent);
    }
  }
  return seen;
}

void test('ahead/behind and reachability equal the set differences of full ancestries on random histories', () => {
  for (let seed = 1; seed <= 40; seed++) {
    const next = random(seed);
    const { text, parents } = randomHistory(20 + Math.floor(next() * 400), next);
    const graph = parseCommitGraph(text);
    assert.ok(graph, `seed ${seed}: graph parsed`);
    const ancestry = new Ancestry(graph);
    const id = (index: number): number => ancestry.id(index.toString(16).padStart(40, '0'))!;
    const full = parents.map((_, index) => ancestors(parents, index));
    for (let pair = 0; pair < 60; pair++) {
      const left = Math.floor(next() * parents.length);
      const right = Math.floor(next() * parents.length);
      const ahead = [...full[left]!].filter((commit) => !full[right]!.has(commit)).length;
      const behind = [...full[right]!].filter((commit) => !full[left]!.has(commit)).length;
      assert.deepEqual(
        ancestry.aheadBehind(id(left), id(right)),
        { ahead, behind },
        `seed ${seed}: ${left} vs ${right}`,
      );
    }
    const tip = Math.floor(next() * parents.length);
    const reachable = ancestry.reachableFrom(id(tip));
    for (let index = 0; index < parents.length; index++)
      assert.equal(reachable[id(index)] === 1, full[tip]!.has(index), `seed ${seed}: ${index} from ${tip}`);
  }
});

void test('a commit against itself is 0/0; unrelated roots count their whole histories', () => {
  const graph = parseCommitGraph(['c b', 'b a', 'a', 'y x', 'x'].join('\n') + '\n')!;
  const ancestry = new Ancestry(graph);
  assert.deepEqual(ancestry.aheadBehind(ancestry.id('c')!, ancestry.id('c')!), { ahead: 0, behind: 0 });
  assert.deepEqual(ancestry.aheadBehind(ancestry.id('c')!, ancestry.id('y')!), { ahead: 3, behind: 2 });
  assert.deepEqual(ancestry.aheadBehind(ancestry.id('a')!, ancestry.id('c')!), { ahead: 0, behind: 2 });
});

void test('output that names a parent it does not list (cut short) is refused, not half-read', () => {
  assert.equal(parseCommitGraph('c b\nb a\n'), null);
  assert.equal(parseCommitGraph('a\na\n'), null, 'a commit listed twice is not rev-list output');
  assert.equal(parseCommitGraph('')?.ids.size, 0);
});

void test('formatted rev-list output: each commit\'s format line by id; a cut or foreign line is refused', () => {
  const history = parseFormattedRevList('commit c b a\n3\0carol\0merge\ncommit b a\n2\0bob\0\ncommit a\n1\0al\0first one\n')!;
  assert.deepEqual(
    ['c', 'b', 'a'].map((sha) => history.formatted(history.graph.ids.get(sha)!)),
    ['3\0carol\0merge', '2\0bob\0', '1\0al\0first one'],
  );
  assert.deepEqual([...history.graph.parents], [1, 2, 2]);
  assert.equal(parseFormattedRevList('commit b a\n2\0bob\0x\ncommit a\n'), null, 'the last format line is missing');
  assert.equal(parseFormattedRevList('b a\n2\0bob\0x\n'), null, 'no commit header');
  assert.equal(parseFormattedRevList('')?.graph.ids.size, 0);
});
