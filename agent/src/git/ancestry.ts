/**
 * Ahead/behind and "merged into" answered from a commit graph read once (`git rev-list --parents`
 * output), instead of one revision walk per branch inside git (`%(upstream:track)` costs git ~55 µs
 * per branch, most of a 5,000-branch listing).
 *
 * Exact by construction: ahead = |anc(A) \ anc(B)|, behind = |anc(B) \ anc(A)|, the same sets
 * `git rev-list --left-right --count B...A` counts. The walk per pair pops commits in decreasing
 * generation (1 + the largest parent generation), so every commit's marks are final when it is
 * popped (its children in the walk all have higher generations), and it stops as soon as everything
 * still queued is reachable from both sides: nothing below can be on one side only. Its cost is the
 * symmetric difference plus that frontier, not the history.
 */

/** Parents per commit in compact form; ids are positions in `shas`. */
export interface CommitGraph {
  readonly ids: ReadonlyMap<string, number>;
  readonly parentStart: Int32Array;
  readonly parents: Int32Array;
  readonly generation: Int32Array;
}

/**
 * Parses `git rev-list --parents` output (a commit, then its parents, per line). Returns null when a
 * parent is not itself listed: the output was cut short (or is not a closed history), so counts
 * from it could be wrong.
 */
export function parseCommitGraph(stdout: string): CommitGraph | null {
  const lines = stdout.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return commitGraphOf(lines);
}

/** The same from the lines already split (a commit, then its parents, per line). */
export function commitGraphOf(lines: readonly string[]): CommitGraph | null {
  const ids = new Map<string, number>();
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index]!;
    const space = line.indexOf(' ');
    ids.set(space === -1 ? line : line.slice(0, space), index);
  }
  if (ids.size !== lines.length) return null;
  const parentStart = new Int32Array(lines.length + 1);
  const parentList: number[] = [];
  for (let index = 0; index < lines.length; index++) {
    parentStart[index] = parentList.length;
    const fields = lines[index]!.split(' ');
    for (let field = 1; field < fields.length; field++) {
      const parent = ids.get(fields[field]!);
      if (parent === undefined) return null;
      parentList.push(parent);
    }
  }
  parentStart[lines.length] = parentList.length;
  const parents = Int32Array.from(parentList);
  return { ids, parentStart, parents, generation: generations(lines.length, parentStart, parents) };
}

/** Topological levels (a root is 1), computed with an explicit stack: histories are deep. */
function generations(count: number, parentStart: Int32Array, parents: Int32Array): Int32Array {
  const generation = new Int32Array(count);
  const stack: number[] = [];
  for (let start = 0; start < count; start++) {
    if (generation[start] !== 0) continue;
    stack.push(start);
    while (stack.length > 0) {
      const commit = stack[stack.length - 1]!;
      if (generation[commit] !== 0) {
        stack.pop();
        continue;
      }
      let level = 0;
      let pending = false;
      for (let at = parentStart[commit]!; at < parentStart[commit + 1]!; at++) {
        const parentLevel = generation[parents[at]!]!;
        if (parentLevel === 0) {
          stack.push(parents[at]!);
          pending = true;
        } else if (parentLevel > level) {
          level = parentLevel;
        }
      }
      if (!pending) {
        generation[commit] = level + 1;
        stack.pop();
      }
    }
  }
  return generation;
}

const LEFT = 1;
const RIGHT = 2;
const BOTH = 3;

/** Answers many ahead/behind and reachability questions on one graph, reusing its scratch arrays. */
export class Ancestry {
  private readonly marks: Uint8Array;
  private readonly queued: Uint8Array;
  private readonly heap: number[] = [];

  constructor(readonly graph: CommitGraph) {
    this.marks = new Uint8Array(graph.generation.length);
    this.queued = new Uint8Array(graph.generation.length);
  }

  /** The commit's id, or undefined when the graph does not hold it. */
  id(sha: string): number | undefined {
    return this.graph.ids.get(sha);
  }

  /** Commits reachable from `left` but not `right`, and the reverse. */
  aheadBehind(left: number, right: number): { ahead: number; behind: number } {
    if (left === right) return { ahead: 0, behind: 0 };
    const { parentStart, parents } = this.graph;
    const marks = this.marks;
    const queued = this.queued;
    const touched: number[] = [left, right];
    marks[left] = LEFT;
    marks[right] = RIGHT;
    this.push(left);
    this.push(right);
    let oneSided = 2;
    let ahead = 0;
    let behind = 0;
    while (oneSided > 0) {
      const commit = this.pop();
      queued[commit] = 0;
      const mark = marks[commit]!;
      // A commit seen from both sides counts for neither, but still passes both marks down: a
      // parent it shares with a one-sided commit must not be counted on that side.
      if (mark !== BOTH) {
        oneSided--;
        if (mark === LEFT) ahead++;
        else behind++;
      }
      for (let at = parentStart[commit]!; at < parentStart[commit + 1]!; at++) {
        const parent = parents[at]!;
        const before = marks[parent]!;
        const after = before | mark;
        if (after === before) continue;
        marks[parent] = after;
        if (before === 0) touched.push(parent);
        if (queued[parent] === 1) {
          if (after === BOTH) oneSided--;
        } else {
          this.push(parent);
          if (after !== BOTH) oneSided++;
        }
      }
    }
    for (const commit of this.heap) queued[commit] = 0;
    this.heap.length = 0;
    for (const commit of touched) marks[commit] = 0;
    return { ahead, behind };
  }

  /** Every commit reachable from `tip` (itself included), as a membership array. */
  reachableFrom(tip: number): Uint8Array {
    const { parentStart, parents } = this.graph;
    const seen = new Uint8Array(this.graph.generation.length);
    const stack = [tip];
    seen[tip] = 1;
    while (stack.length > 0) {
      const commit = stack.pop()!;
      for (let at = parentStart[commit]!; at < parentStart[commit + 1]!; at++) {
        const parent = parents[at]!;
        if (seen[parent] === 0) {
          seen[parent] = 1;
          stack.push(parent);
        }
      }
    }
    return seen;
  }

  /** Max-heap on generation. */
  private push(commit: number): void {
    const { generation } = this.graph;
    const heap = this.heap;
    this.queued[commit] = 1;
    let at = heap.length;
    heap.push(commit);
    while (at > 0) {
      const up = (at - 1) >> 1;
      if (generation[heap[up]!]! >= generation[commit]!) break;
      heap[at] = heap[up]!;
      at = up;
    }
    heap[at] = commit;
  }

  private pop(): number {
    const { generation } = this.graph;
    const heap = this.heap;
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length > 0) {
      let at = 0;
      const level = generation[last]!;
      for (;;) {
        let child = 2 * at + 1;
        if (child >= heap.length) break;
        if (child + 1 < heap.length && generation[heap[child + 1]!]! > generation[heap[child]!]!) child++;
        if (generation[heap[child]!]! <= level) break;
        heap[at] = heap[child]!;
        at = child;
      }
      heap[at] = last;
    }
    return top;
  }
}
