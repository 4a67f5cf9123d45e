/**
 * The dependency graph over task instances: `needs` edges plus data edges (an input equal to,
 * inside, or holding another instance's output), each edge remembering what in the file made it —
 * so a cycle can be reported on every edge of it.
 */
import type { Located, NeedRef, PathEntry, TaskInstance } from './model';
import type { OutputOwner, OutputTrie } from './paths';
import { isTemplated } from './paths';

/** Why `from` depends on `to`: a `needs` entry of `from`'s task, or one of its inputs. */
export type EdgeCause =
  | { readonly kind: 'need'; readonly ref: NeedRef }
  | { readonly kind: 'data'; readonly input: PathEntry; readonly producer: OutputOwner };

export interface DependencyGraph {
  readonly instances: readonly TaskInstance[];
  /** `dependencies[i]`: indexes of the instances instance i runs after (deduplicated). */
  readonly dependencies: readonly (readonly number[])[];
  /** `causes[i][k]`: why instance i depends on `dependencies[i][k]` (the first reason found). */
  readonly causes: readonly (readonly EdgeCause[])[];
}

export function buildDependencyGraph(instances: readonly TaskInstance[], outputs: OutputTrie): DependencyGraph {
  const dependencies: number[][] = [];
  const causes: EdgeCause[][] = [];
  // seenBy[t] === i: instance i already depends on t (a stamp per instance instead of a Set each).
  const seenBy = new Int32Array(instances.length).fill(-1);
  for (let index = 0; index < instances.length; index++) {
    const instance = instances[index]!;
    const targets: number[] = [];
    const reasons: EdgeCause[] = [];
    for (const ref of instance.task.needs) {
      for (const target of ref.targets) {
        if (seenBy[target.index] === index) continue;
        seenBy[target.index] = index;
        targets.push(target.index);
        reasons.push({ kind: 'need', ref });
      }
    }
    for (const input of instance.inputs) {
      if (isTemplated(input.path)) continue;
      for (const producer of outputs.producersOf(input.path)) {
        // Reading what you write yourself is not an edge.
        const target = producer.instance.index;
        if (producer.instance === instance || seenBy[target] === index) continue;
        seenBy[target] = index;
        targets.push(target);
        reasons.push({ kind: 'data', input: input.entry, producer });
      }
    }
    dependencies.push(targets);
    causes.push(reasons);
  }
  return { instances, dependencies, causes };
}

/** One cycle: instance indexes `[a, b, c]` meaning a depends on b, b on c, c on a; and each edge's cause. */
export interface Cycle {
  readonly members: readonly number[];
  readonly causes: readonly EdgeCause[];
}

/** One cycle per strongly connected component that has one (Tarjan's algorithm, iterative: no recursion limit). */
export function findCycles(graph: DependencyGraph): Cycle[] {
  const cycles: Cycle[] = [];
  for (const component of stronglyConnectedComponents(graph.dependencies)) {
    // Start from the member written first in the file, so the cycle reads the same on every run.
    const start = component.reduce((lowest, member) => Math.min(lowest, member));
    if (component.length === 1 && !graph.dependencies[start]!.includes(start)) continue;
    const cycle = cycleThrough(graph, start, new Set(component));
    if (cycle) cycles.push(cycle);
  }
  return cycles;
}

/** The edge's location in the file (a `needs` entry or an input), for diagnostics. */
export function causeLocation(cause: EdgeCause): Located {
  return cause.kind === 'need' ? cause.ref : cause.input;
}

/** Shortest path from `start` back to itself inside the component (breadth-first). */
function cycleThrough(graph: DependencyGraph, start: number, component: ReadonlySet<number>): Cycle | undefined {
  const cameFrom = new Map<number, { from: number; cause: EdgeCause }>();
  const queue = [start];
  for (let head = 0; head < queue.length; head++) {
    const node = queue[head]!;
    const targets = graph.dependencies[node]!;
    for (let k = 0; k < targets.length; k++) {
      const target = targets[k]!;
      if (!component.has(target)) continue;
      const cause = graph.causes[node]![k]!;
      if (target === start) return unwind(cameFrom, start, node, cause);
      if (cameFrom.has(target)) continue;
      cameFrom.set(target, { from: node, cause });
      queue.push(target);
    }
  }
  return undefined;
}

function unwind(cameFrom: Map<number, { from: number; cause: EdgeCause }>, start: number, last: number, closing: EdgeCause): Cycle {
  const members = [last];
  const causes = [closing];
  let node = last;
  while (node !== start) {
    const step = cameFrom.get(node)!;
    members.unshift(step.from);
    causes.unshift(step.cause);
    node = step.from;
  }
  return { members, causes };
}

function stronglyConnectedComponents(edges: readonly (readonly number[])[]): number[][] {
  const count = edges.length;
  const index = new Int32Array(count).fill(-1);
  const lowLink = new Int32Array(count);
  const onStack = new Uint8Array(count);
  const stack: number[] = [];
  const components: number[][] = [];
  let nextIndex = 0;
  // Explicit call stack of (node, position in its edge list).
  const callNodes: number[] = [];
  const callEdge: number[] = [];
  for (let root = 0; root < count; root++) {
    if (index[root] !== -1) continue;
    callNodes.push(root);
    callEdge.push(0);
    index[root] = lowLink[root] = nextIndex++;
    stack.push(root);
    onStack[root] = 1;
    while (callNodes.length > 0) {
      const top = callNodes.length - 1;
      const node = callNodes[top]!;
      const targets = edges[node]!;
      if (callEdge[top]! < targets.length) {
        const target = targets[callEdge[top]!++]!;
        if (index[target] === -1) {
          index[target] = lowLink[target] = nextIndex++;
          stack.push(target);
          onStack[target] = 1;
          callNodes.push(target);
          callEdge.push(0);
        } else if (onStack[target]) {
          lowLink[node] = Math.min(lowLink[node]!, index[target]!);
        }
        continue;
      }
      callNodes.pop();
      callEdge.pop();
      if (callNodes.length > 0) {
        const parent = callNodes[callNodes.length - 1]!;
        lowLink[parent] = Math.min(lowLink[parent]!, lowLink[node]!);
      }
      if (lowLink[node] === index[node]) {
        const component: number[] = [];
        let member: number;
        do {
          member = stack.pop()!;
          onStack[member] = 0;
          component.push(member);
        } while (member !== node);
        components.push(component);
      }
    }
  }
  return components;
}
