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
  return parseRevList(stdout, false)?.graph ?? null;
}

/** `git rev-list --parents --format=…` output: the graph, and the format's line per commit. */
export interface FormattedHistory {
  readonly graph: CommitGraph;
  /** The format's output for commit `id` (one line: the format must not print a newline). */
  formatted(id: number): string;
}

/** Parses `rev-list --parents --format=<one line>` output: `commit <sha> <parents>`, then the line. */
export function parseFormattedRevList(stdout: string): FormattedHistory | null {
  const parsed = parseRevList(stdout, true);
  if (parsed === null) return null;
  const { graph, formatSpans } = parsed;
  return { graph, formatted: (id) => stdout.slice(formatSpans[2 * id], formatSpans[2 * id + 1]) };
}

const COMMIT_HEADER = 'commit ';

/**
 * One pass over the output by offsets: a line string per commit (and per format line) would be
 * garbage the size of the history, and scavenges of it were most of the listing's JavaScript time.
 */
function parseRevList(stdout: string, formatted: boolean): { graph: CommitGraph; formatSpans: Int32Array } | null {
  const ids = new Map<string, number>();
  const parentsAt: number[] = [];
  const headEnds: number[] = [];
  const formatSpans: number[] = [];
  for (let at = 0; at < stdout.length; ) {
    if (formatted) {
      if (!stdout.startsWith(COMMIT_HEADER, at)) return null;
      at += COMMIT_HEADER.length;
    }
    const end = lineEnd(stdout, at);
    const shaEnd = Math.min(end, wordEnd(stdout, at));
    ids.set(stdout.slice(at, shaEnd), headEnds.length);
    parentsAt.push(shaEnd);
    headEnds.push(end);
    at = end + 1;
    if (formatted) {
      if (at >= stdout.length) return null;
      const formatEnd = lineEnd(stdout, at);
      formatSpans.push(at, formatEnd);
      at = formatEnd + 1;
    }
  }
  const count = headEnds.length;
  if (ids.size !== count) return null;
  const parentStart = new Int32Array(count + 1);
  const parentList: number[] = [];
  for (let index = 0; index < count; index++) {
    parentStart[index] = parentList.length;
    const end = headEnds[index]!;
    for (let at = parentsAt[index]! + 1; at < end; ) {
      const parentEnd = Math.min(end, wordEnd(stdout, at));
      const parent = ids.get(stdout.slice(at, parentEnd));
      if (parent === undefined) return null;
      parentList.push(parent);
      at = parentEnd + 1;
    }
  }
  parentStart[count] = parentList.length;
  const parents = Int32Array.from(parentList);
  const graph = { ids, parentStart, parents, generation: generations(count, parentStart, parents) };
  return { graph, formatSpans: Int32Array.from(formatSpans) };
}

function lineEnd(text: string, from: number): number {
  const end = text.indexOf('\n', from);
  return end === -1 ? text.length : end;
}

function wordEnd(text: string, from: number): number {
  const end = text.indexOf(' ', from);
  return end === -1 ? text.length : end;
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
