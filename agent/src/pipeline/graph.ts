/**
 * The instance graph a DAG run schedules: one node per task instance (`train@rf`), an edge from
 * each instance to those it must wait for. Edges come from `needs` (`train` selects every instance
 * of the task, `train@rf` one) and from data: an input equal to or inside another instance's output,
 * or an output of another instance inside an input folder. A cycle is refused, named in full.
 */
import { PipelineError } from './errors';

export interface GraphNode {
  /** `train` or `train@rf`. */
  readonly name: string;
  /** The task it is an instance of (`train`). */
  readonly task: string;
  /** As written under `needs:` (task names or `task@…` instance names). */
  readonly needs: readonly string[];
  /** Workspace-relative, forward slashes, no trailing slash. */
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
}

export type EdgeCause = { readonly kind: 'needs' } | { readonly kind: 'data'; readonly path: string };

export interface InstanceGraph {
  /** The nodes in dependency order (every node after those it depends on), file order among equals. */
  readonly order: readonly string[];
  readonly nodes: ReadonlyMap<string, GraphNode>;
  /** Node → the nodes it waits for, with why. */
  readonly upstream: ReadonlyMap<string, ReadonlyMap<string, EdgeCause>>;
  /** Node → the nodes that wait for it. */
  readonly downstream: ReadonlyMap<string, ReadonlySet<string>>;
}

export function buildInstanceGraph(nodes: readonly GraphNode[], where: string): InstanceGraph {
  const byName = new Map(nodes.map((node) => [node.name, node]));
  const upstream = new Map<string, Map<string, EdgeCause>>(nodes.map((node) => [node.name, new Map()]));
  const producers = new OutputIndex(nodes);
  for (const node of nodes) {
    const edges = upstream.get(node.name)!;
    for (const need of node.needs) {
      const targets = nodes.filter((other) => other.name === need || other.task === need);
      if (targets.length === 0) throw new PipelineError(`${where}: task ${node.name} needs ${need}, which is not a task of the file`);
      for (const target of targets) if (target.name !== node.name) edges.set(target.name, { kind: 'needs' });
    }
    for (const input of node.inputs) {
      for (const { producer, path } of producers.find(input)) {
        if (producer !== node.name && !edges.has(producer)) edges.set(producer, { kind: 'data', path });
      }
    }
  }
  const downstream = new Map<string, Set<string>>(nodes.map((node) => [node.name, new Set()]));
  for (const [name, edges] of upstream) for (const target of edges.keys()) downstream.get(target)!.add(name);
  const order = topologicalOrder(nodes, upstream, downstream, where);
  return { order, nodes: byName, upstream, downstream };
}

/**
 * Who writes what, for finding data edges without comparing every input with every output: an
 * input's producers are the writers of the input itself or of a folder above it (looked up by each
 * of its ancestors), and of anything inside it (looked up by the folders above each output).
 */
class OutputIndex {
  private readonly exact = new Map<string, { producer: string; path: string }[]>();
  private readonly below = new Map<string, { producer: string; path: string }[]>();

  constructor(nodes: readonly GraphNode[]) {
    for (const node of nodes) {
      for (const path of node.outputs) {
        add(this.exact, path, { producer: node.name, path });
        for (const folder of ancestors(path)) add(this.below, folder, { producer: node.name, path });
      }
    }
  }

  find(input: string): { producer: string; path: string }[] {
    const found = [...(this.exact.get(input) ?? []), ...(this.below.get(input) ?? [])];
    for (const folder of ancestors(input)) found.push(...(this.exact.get(folder) ?? []));
    return found;
  }
}

function add<T>(map: Map<string, T[]>, key: string, value: T): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/** `a/b/c` → `a/b`, `a`. */
function ancestors(path: string): string[] {
  const result: string[] = [];
  for (let slash = path.lastIndexOf('/'); slash > 0; slash = path.lastIndexOf('/', slash - 1)) result.push(path.slice(0, slash));
  return result;
}

export function isInside(path: string, folder: string): boolean {
  return folder === '.' || folder === '' ? path !== folder : path.startsWith(`${folder}/`);
}

/** Kahn's algorithm, taking ready nodes in file order; what is left over lies on or behind a cycle. */
function topologicalOrder(
  nodes: readonly GraphNode[],
  upstream: ReadonlyMap<string, ReadonlyMap<string, EdgeCause>>,
  downstream: ReadonlyMap<string, ReadonlySet<string>>,
  where: string,
): string[] {
  const position = new Map(nodes.map((node, index) => [node.name, index]));
  const waiting = new Map(nodes.map((node) => [node.name, upstream.get(node.name)!.size]));
  const ready = nodes.filter((node) => waiting.get(node.name) === 0).map((node) => node.name);
  const order: string[] = [];
  while (ready.length > 0) {
    ready.sort((a, b) => position.get(a)! - position.get(b)!);
    const name = ready.shift()!;
    order.push(name);
    for (const next of downstream.get(name)!) {
      const left = waiting.get(next)! - 1;
      waiting.set(next, left);
      if (left === 0) ready.push(next);
    }
  }
  if (order.length < nodes.length) {
    const cycle = findCycle(nodes.filter((node) => waiting.get(node.name)! > 0).map((node) => node.name), upstream);
    throw new PipelineError(`${where}: the tasks form a cycle: ${describeCycle(cycle, upstream)}`);
  }
  return order;
}

/** Walks upstream edges among the blocked nodes until a node repeats: that stretch is a cycle. */
function findCycle(blocked: readonly string[], upstream: ReadonlyMap<string, ReadonlyMap<string, EdgeCause>>): string[] {
  const inBlocked = new Set(blocked);
  const path: string[] = [];
  const seenAt = new Map<string, number>();
  let current = blocked[0]!;
  while (!seenAt.has(current)) {
    seenAt.set(current, path.length);
    path.push(current);
    current = [...upstream.get(current)!.keys()].find((name) => inBlocked.has(name))!;
  }
  // The walk follows "waits for" edges; a cycle reads better in the direction data flows.
  return path.slice(seenAt.get(current)!).reverse();
}

function describeCycle(cycle: readonly string[], upstream: ReadonlyMap<string, ReadonlyMap<string, EdgeCause>>): string {
  const steps = cycle.map((name, index) => {
    const next = cycle[(index + 1) % cycle.length]!;
    const cause = upstream.get(next)!.get(name)!;
    return cause.kind === 'data' ? `${name} →(${cause.path}) ` : `${name} → `;
  });
  return `${steps.join('')}${cycle[0]}`;
}

/** The named nodes and everything they (transitively) wait for. */
export function withUpstream(graph: InstanceGraph, names: Iterable<string>): Set<string> {
  return closure(names, (name) => graph.upstream.get(name)!.keys());
}

/** The named nodes and everything that (transitively) waits for them. */
export function withDownstream(graph: InstanceGraph, names: Iterable<string>): Set<string> {
  return closure(names, (name) => graph.downstream.get(name)!);
}

function closure(start: Iterable<string>, next: (name: string) => Iterable<string>): Set<string> {
  const found = new Set<string>();
  const stack = [...start];
  while (stack.length > 0) {
    const name = stack.pop()!;
    if (found.has(name)) continue;
    found.add(name);
    stack.push(...next(name));
  }
  return found;
}

/** The instances a name selects on the command line (`train` → all of them, `train@rf` → one). */
export function selectByName(graph: InstanceGraph, name: string, where: string): string[] {
  const selected = graph.order.filter((node) => node === name || graph.nodes.get(node)!.task === name);
  if (selected.length === 0) {
    const tasks = [...new Set([...graph.nodes.values()].map((node) => node.task))].join(', ');
    throw new PipelineError(`${where} has no task ${name} (its tasks: ${tasks})`);
  }
  return selected;
}
