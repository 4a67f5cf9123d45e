/**
 * The outputs of every task instance in a trie of path segments, so "who writes this path, or a
 * folder holding it, or something inside it" costs the path's depth rather than a scan of every
 * output: output conflicts and data edges stay linear in the size of the file.
 */
import type { ResolvedPath, TaskInstance } from './model';

export interface OutputOwner {
  readonly instance: TaskInstance;
  readonly output: ResolvedPath;
}

class TrieNode {
  readonly children = new Map<string, TrieNode>();
  readonly owners: OutputOwner[] = [];
  /** Every owner at or below this node, computed on first use. */
  subtree: OutputOwner[] | undefined;
}

export class OutputTrie {
  private readonly root = new TrieNode();
  /** Answers of producersOf: the graph and the missing-input check ask about the same inputs. */
  private readonly answers = new Map<string, readonly OutputOwner[]>();

  constructor(instances: readonly TaskInstance[]) {
    for (const instance of instances) {
      for (const output of instance.outputs) {
        if (isTemplated(output.path)) continue;
        this.nodeFor(output.path, true)!.owners.push({ instance, output });
      }
    }
  }

  /**
   * The outputs a path depends on: the same path, a folder holding it, or (when the path is a
   * folder) anything written inside it.
   */
  producersOf(path: string): readonly OutputOwner[] {
    let producers = this.answers.get(path);
    if (!producers) {
      producers = this.findProducers(path);
      this.answers.set(path, producers);
    }
    return producers;
  }

  private findProducers(path: string): OutputOwner[] {
    const producers: OutputOwner[] = [];
    let node: TrieNode | undefined = this.root;
    append(producers, node.owners);
    // The segments of path.split('/'), without the array.
    for (let from = 0, slash = 0; path !== '' && slash !== -1; from = slash + 1) {
      slash = path.indexOf('/', from);
      node = node.children.get(slash === -1 ? path.slice(from) : path.slice(from, slash));
      if (!node) return producers;
      append(producers, node.owners);
    }
    // The node itself was counted on the way down; add what lies strictly below it.
    for (const child of node.children.values()) append(producers, subtreeOwners(child));
    return producers;
  }

  /** Pairs of outputs that collide: the same path written twice, or one output inside another. */
  conflicts(): OutputConflict[] {
    const found: OutputConflict[] = [];
    // Iterative depth-first walk carrying the nearest enclosing output.
    const stack: { node: TrieNode; enclosing: OutputOwner | undefined }[] = [{ node: this.root, enclosing: undefined }];
    while (stack.length > 0) {
      const { node, enclosing } = stack.pop()!;
      const [first, ...rest] = node.owners;
      if (first) {
        for (const other of rest) found.push({ kind: 'same', first, second: other });
        if (enclosing) for (const owner of node.owners) found.push({ kind: 'nested', first: enclosing, second: owner });
      }
      const nextEnclosing = first ?? enclosing;
      for (const child of node.children.values()) stack.push({ node: child, enclosing: nextEnclosing });
    }
    return found;
  }

  private nodeFor(path: string, create: boolean): TrieNode | undefined {
    let node = this.root;
    // The segments of path.split('/'), without the array.
    for (let from = 0, slash = 0; path !== '' && slash !== -1; from = slash + 1) {
      slash = path.indexOf('/', from);
      const segment = slash === -1 ? path.slice(from) : path.slice(from, slash);
      let child = node.children.get(segment);
      if (!child) {
        if (!create) return undefined;
        child = new TrieNode();
        node.children.set(segment, child);
      }
      node = child;
    }
    return node;
  }
}

export interface OutputConflict {
  /** `same`: both write one path; `nested`: `second` lies inside `first` (a folder output). */
  readonly kind: 'same' | 'nested';
  readonly first: OutputOwner;
  readonly second: OutputOwner;
}

function append(target: OutputOwner[], items: readonly OutputOwner[]): void {
  for (const item of items) target.push(item);
}

function subtreeOwners(node: TrieNode): OutputOwner[] {
  if (node.subtree) return node.subtree;
  const owners: OutputOwner[] = [];
  const stack = [node];
  while (stack.length > 0) {
    const current = stack.pop()!;
    owners.push(...current.owners);
    for (const child of current.children.values()) stack.push(child);
  }
  node.subtree = owners;
  return owners;
}

/** A path that still holds `${…}` (an undefined param or matrix axis, reported elsewhere). */
export function isTemplated(path: string): boolean {
  return path.includes('${');
}
