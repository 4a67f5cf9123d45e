/**
 * The DAG model: what a DAG file declares, read from its YAML AST with the source span (offsets)
 * and range (LSP positions) of every name, reference and path — the one reader of DAG files that
 * the validator, the language features (hover, definition, rename, symbols, completion) and the
 * runs service share.
 *
 * It is built from whatever the file holds, valid or not: a field of the wrong shape is skipped
 * here (the validator reports it from the schema), so a half-typed file still has a model.
 *
 * Names and conventions:
 * - A task's instances: one per matrix combination, named `task@v1-v2` (values joined by `-`, axes in
 *   file order), or one named `task` when it has no matrix.
 * - `needs: [train]` selects every instance of `train`; `needs: [train@rf]` one instance.
 * - Path entries keep their text as written (`raw`); instances hold them resolved (`${params.x}` and
 *   `${matrix.x}` substituted, `./` and `a/../` normalised, trailing `/` = directory).
 *
 * Entry points: `buildDagModel(document)` (or `parseDagModel(text)`), then `model.symbolAt(offset)`,
 * `model.definitionOf(symbol)` and `model.referencesOf(symbol)`.
 */
import { posix } from 'node:path';
import { isAlias, isMap, isScalar, isSeq, type Node, type Pair, type YAMLMap } from 'yaml';
import { contains, keyText, parseDagDocument, spanOf, type DagDocument, type ParseLimits, type Span } from './document';
import type { Range } from './types';

/** Something written in the file: its offsets and its LSP range. */
export interface Located {
  readonly span: Span;
  readonly range: Range;
}

/** A name as written (a key or a scalar value). */
export interface LocatedName extends Located {
  readonly name: string;
}

export interface ParamDef {
  readonly name: string;
  /** Where the param's key is written under `params:`. */
  readonly key: Located;
  /** The value as plain data (scalar or array of scalars when valid). */
  readonly value: unknown;
  /** The text substituted for `${params.NAME}` (arrays joined by spaces). */
  readonly text: string;
}

export interface EnvironmentDef {
  readonly name: string;
  readonly key: Located;
  /** The kinds it declares among docker, conda, venv, local (valid when exactly one). */
  readonly kinds: readonly string[];
  readonly description?: string;
}

/** `environment: NAME` in a task or under `defaults:`. */
export interface EnvironmentRef extends LocatedName {
  /** The task naming it, or undefined for `defaults.environment`. */
  readonly task?: TaskDef;
  /** The environment it names, when defined. */
  readonly target?: EnvironmentDef;
}

/** One entry of a task's `needs`. */
export interface NeedRef extends LocatedName {
  readonly task: TaskDef;
  /** The task the name selects (`train` for `train` and for `train@rf`), when it exists. */
  readonly targetTask?: TaskDef;
  /** The instances it selects: all of a task's, or the one named `task@…`; empty when unknown. */
  readonly targets: readonly TaskInstance[];
}

/** `${params.NAME}` or `${matrix.NAME}` inside a task's string (run, inputs, outputs, metrics, env). */
export interface TemplateRef extends Located {
  readonly kind: 'params' | 'matrix';
  /** The part after the dot. */
  readonly name: string;
  /** Where just NAME is (what rename replaces). */
  readonly nameAt: Located;
  readonly task: TaskDef;
}

export type PathKind = 'input' | 'output' | 'metrics';

/** One path under a task's `inputs`, `outputs` or `metrics`, as written. */
export interface PathEntry extends Located {
  readonly kind: PathKind;
  readonly raw: string;
  readonly task: TaskDef;
}

export interface MatrixValue extends Located {
  /** The value as substituted and as it appears in instance names (`String(value)`). */
  readonly text: string;
}

export interface MatrixAxis {
  readonly name: string;
  readonly key: Located;
  readonly values: readonly MatrixValue[];
}

export interface TaskDef {
  readonly name: string;
  /** Where the task's key is written under `tasks:`. */
  readonly key: Located;
  /** The whole task: its key to the end of its value. */
  readonly whole: Located;
  /** The task's mapping (undefined when the value is not a mapping). */
  readonly node?: YAMLMap;
  readonly description?: string;
  readonly run?: Located & { readonly text: string };
  readonly needs: readonly NeedRef[];
  readonly environment?: EnvironmentRef;
  readonly matrix: readonly MatrixAxis[];
  readonly inputs: readonly PathEntry[];
  readonly outputs: readonly PathEntry[];
  readonly metrics: readonly PathEntry[];
  readonly templates: readonly TemplateRef[];
  readonly instances: readonly TaskInstance[];
  /** Set when the matrix expands to more instances than the limit allows (then `instances` holds one, named like the task). */
  readonly matrixTooLarge?: { readonly combinations: number; readonly limit: number };
}

/** A path resolved for one instance. `path` is normalised, without a trailing `/`. */
export interface ResolvedPath {
  readonly path: string;
  readonly directory: boolean;
  readonly entry: PathEntry;
}

export interface TaskInstance {
  /** `train`, or `train@rf` for one combination of a matrix task. */
  readonly name: string;
  readonly task: TaskDef;
  /** Axis → value text for this combination (empty without a matrix). */
  readonly matrix: Readonly<Record<string, string>>;
  readonly inputs: readonly ResolvedPath[];
  readonly outputs: readonly ResolvedPath[];
  /** Position in `model.instances` (graph algorithms index arrays with it). */
  readonly index: number;
}

/** What is at an offset, for hover, definition and rename. */
export type DagSymbol =
  | { readonly kind: 'task'; readonly task: TaskDef }
  | { readonly kind: 'need'; readonly ref: NeedRef }
  | { readonly kind: 'environment'; readonly environment: EnvironmentDef }
  | { readonly kind: 'environment-ref'; readonly ref: EnvironmentRef }
  | { readonly kind: 'param'; readonly param: ParamDef }
  | { readonly kind: 'param-ref'; readonly ref: TemplateRef }
  | { readonly kind: 'matrix-axis'; readonly task: TaskDef; readonly axis: MatrixAxis }
  | { readonly kind: 'matrix-ref'; readonly ref: TemplateRef }
  | { readonly kind: 'path'; readonly entry: PathEntry };

export interface ModelLimits {
  /** Matrix combinations one task may expand to. */
  readonly maxInstancesPerTask: number;
  /** Instances the whole file may expand to; tasks past it keep a single unexpanded instance. */
  readonly maxInstances: number;
}

export const DEFAULT_MODEL_LIMITS: ModelLimits = { maxInstancesPerTask: 10_000, maxInstances: 200_000 };

export interface DagModel {
  readonly document: DagDocument;
  /** The file's `name:` when it is a string. */
  readonly name?: string;
  readonly params: ReadonlyMap<string, ParamDef>;
  readonly environments: ReadonlyMap<string, EnvironmentDef>;
  /** `defaults.environment`, when written. */
  readonly defaultEnvironment?: EnvironmentRef;
  /** Tasks by name, in file order (the first of duplicated keys). */
  readonly tasks: ReadonlyMap<string, TaskDef>;
  /** Every instance, in file order; `instances[i].index === i`. */
  readonly instances: readonly TaskInstance[];
  readonly instancesByName: ReadonlyMap<string, TaskInstance>;
  readonly needRefs: readonly NeedRef[];
  readonly environmentRefs: readonly EnvironmentRef[];
  readonly templateRefs: readonly TemplateRef[];
  /** The innermost symbol whose span contains the offset (a `${params.x}` inside a path wins over the path). */
  symbolAt(offset: number): DagSymbol | undefined;
  /** Where the symbol's target is defined: a task or environment or param key, a matrix axis key. */
  definitionOf(symbol: DagSymbol): Located | undefined;
  /** Every place naming the same thing as the symbol, definition first (what rename rewrites). Spans cover the name only. */
  referencesOf(symbol: DagSymbol): Located[];
}

/** Parses text and builds its model (see `parseDagDocument` for the parse limits). */
export function parseDagModel(text: string, limits: Partial<ParseLimits & ModelLimits> = {}): DagModel {
  return buildDagModel(parseDagDocument(text, limits), limits);
}

export function buildDagModel(document: DagDocument, limits: Partial<ModelLimits> = {}): DagModel {
  return new ModelBuilder(document, { ...DEFAULT_MODEL_LIMITS, ...limits }, false).build();
}

/** Where an edit inside one task entry moved the text after it (offsets in the text before the edit). */
export interface EntryShift {
  /** Where the edited entry's key starts (unchanged by the edit). */
  readonly entryStart: number;
  /** Where the next entry's key started: it and everything after it moved by `delta`. */
  readonly nextStart: number;
  readonly delta: number;
  /** Lines added (or removed, negative) before the next entry. */
  readonly lineDelta: number;
}

/** A model that takes one edited task in place (for the language server, agent/src/dag/incremental.ts). */
export interface EditableDagModel {
  readonly model: DagModel;
  /**
   * The model after the entry at `index` under `tasks:` became `pair`, in `document` whose tree is
   * already patched and whose text differs from the last one only inside that entry. Everything
   * else is kept, its offsets and lines moved by `shift`. Undefined when that cannot give what a
   * full build would (then this object is spent: build anew).
   */
  replaceTask(document: DagDocument, index: number, pair: Pair, shift: EntryShift): DagModel | undefined;
}

export function buildEditableDagModel(document: DagDocument, limits: Partial<ModelLimits> = {}): EditableDagModel {
  const builder = new ModelBuilder(document, { ...DEFAULT_MODEL_LIMITS, ...limits }, true);
  let model = builder.build();
  return {
    get model() {
      return model;
    },
    replaceTask(nextDocument, index, pair, shift) {
      const replaced = builder.replaceTask(nextDocument, index, pair, shift);
      if (replaced) model = replaced;
      return replaced;
    },
  };
}

const TEMPLATE = /\$\{(params|matrix)\.([^}\s]*)\}/g;

/** Mutable twins of the readonly interfaces, filled while building. */
interface TaskDraft extends Omit<TaskDef, 'needs' | 'templates' | 'instances' | 'inputs' | 'outputs' | 'metrics'> {
  needs: NeedRef[];
  templates: TemplateRef[];
  instances: TaskInstance[];
  inputs: PathEntry[];
  outputs: PathEntry[];
  metrics: PathEntry[];
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

class ModelBuilder {
  private readonly params = new Map<string, ParamDef>();
  private readonly environments = new Map<string, EnvironmentDef>();
  private tasks = new Map<string, TaskDraft>();
  private readonly instances: TaskInstance[] = [];
  private instancesByName = new Map<string, TaskInstance>();
  private needRefs: NeedRef[] = [];
  private readonly environmentRefs: EnvironmentRef[] = [];
  private readonly templateRefs: TemplateRef[] = [];
  private readonly symbols: { readonly span: Span; readonly symbol: DagSymbol }[] = [];
  private defaultEnvironment: EnvironmentRef | undefined;
  private fileName: string | undefined;
  // What replaceTask needs: the tasks mapping, where its symbols start, how many each task added,
  // where the needs' symbols start, and every Located made (so offsets after an edit can move).
  private tasksNode: YAMLMap | undefined;
  private taskSymbolsStart = 0;
  private readonly taskSymbolCounts: number[] = [];
  private needSymbolsStart = 0;
  private readonly made: Located[] | undefined;

  constructor(
    private document: DagDocument,
    private readonly limits: ModelLimits,
    editable: boolean,
  ) {
    this.made = editable ? [] : undefined;
  }

  build(): DagModel {
    const root = this.resolve(this.document.yaml?.contents ?? null);
    if (isMap(root)) {
      const name = this.scalarText(this.field(root, 'name'));
      if (name !== undefined) this.fileName = name;
      this.readParams(this.field(root, 'params'));
      this.readEnvironments(this.field(root, 'environments'));
      this.readTasks(this.field(root, 'tasks'));
      this.readDefaults(this.field(root, 'defaults'));
      this.indexInstances();
      this.resolveNeeds();
    }
    return this.finish();
  }

  replaceTask(document: DagDocument, index: number, pair: Pair, shift: EntryShift): DagModel | undefined {
    const made = this.made;
    const tasks = [...this.tasks.values()];
    const old = tasks[index];
    // Every entry must be a task of its own (no duplicate or non-scalar keys), so entry i is task i.
    if (!made || !old || this.tasksNode?.items.length !== tasks.length) return undefined;
    const name = keyText(pair);
    if (name === null || (name !== old.name && this.tasks.has(name))) return undefined;
    // A later task's expansion depends on how many instances come before it only near the limits.
    for (let later = index + 1; later < tasks.length; later++) if (tasks[later]!.matrixTooLarge) return undefined;

    // Offsets after the entry move; the entry's own places go (it is read again below).
    let kept = 0;
    for (const located of made) {
      const span = located.span as Mutable<Span>;
      if (span.start >= shift.nextStart) {
        span.start += shift.delta;
        span.end += shift.delta;
        (located.range.start as Mutable<Range['start']>).line += shift.lineDelta;
        (located.range.end as Mutable<Range['end']>).line += shift.lineDelta;
      } else if (span.start >= shift.entryStart) {
        continue;
      }
      made[kept++] = located;
    }
    made.length = kept;

    // The task's parts of the flat lists are contiguous: cut them out, read the task at their place, put the rest back.
    let symbolStart = this.taskSymbolsStart;
    let environmentStart = 0;
    let templateStart = 0;
    for (let before = 0; before < index; before++) {
      symbolStart += this.taskSymbolCounts[before]!;
      if (tasks[before]!.environment) environmentStart++;
      templateStart += tasks[before]!.templates.length;
    }
    this.symbols.length = this.needSymbolsStart;
    const symbolsAfter = this.symbols.splice(symbolStart);
    const environmentRefsAfter = this.environmentRefs.splice(environmentStart);
    const templateRefsAfter = this.templateRefs.splice(templateStart);
    const instancesAfter = this.instances.splice(old.instances[0]!.index);

    this.document = document;
    const task = this.readTask(name, pair);
    this.symbols.push({ span: task.key.span, symbol: { kind: 'task', task } });
    const oldSymbolCount = this.taskSymbolCounts[index]!;
    this.taskSymbolCounts[index] = this.symbols.length - symbolStart;

    for (let at = oldSymbolCount; at < symbolsAfter.length; at++) this.symbols.push(symbolsAfter[at]!);
    for (let at = old.environment ? 1 : 0; at < environmentRefsAfter.length; at++) this.environmentRefs.push(environmentRefsAfter[at]!);
    for (let at = old.templates.length; at < templateRefsAfter.length; at++) this.templateRefs.push(templateRefsAfter[at]!);
    for (let at = old.instances.length; at < instancesAfter.length; at++) {
      const instance = instancesAfter[at]! as Mutable<TaskInstance>;
      instance.index = this.instances.length;
      this.instances.push(instance);
    }
    if (this.instances.length > this.limits.maxInstances) return undefined;

    tasks[index] = task;
    this.tasks = new Map(tasks.map((each) => [each.name, each]));
    this.indexInstances();
    this.resolveNeeds();
    return this.finish();
  }

  private finish(): DagModel {
    const symbols = this.symbols;
    const { params, environments, tasks, instances, instancesByName, needRefs, environmentRefs, templateRefs } = this;
    const defaultEnvironment = this.defaultEnvironment;
    const model: DagModel = {
      document: this.document,
      ...(this.fileName !== undefined ? { name: this.fileName } : {}),
      params,
      environments,
      ...(defaultEnvironment ? { defaultEnvironment } : {}),
      tasks,
      instances,
      instancesByName,
      needRefs,
      environmentRefs,
      templateRefs,
      symbolAt(offset) {
        let best: { readonly span: Span; readonly symbol: DagSymbol } | undefined;
        for (const entry of symbols) {
          if (!contains(entry.span, offset)) continue;
          if (!best || entry.span.end - entry.span.start < best.span.end - best.span.start) best = entry;
        }
        return best?.symbol;
      },
      definitionOf: (symbol) => definitionOf(model, symbol),
      referencesOf: (symbol) => referencesOf(model, symbol),
    };
    return model;
  }

  // ---- sections -------------------------------------------------------------------------------

  private readParams(node: Node | null): void {
    if (!isMap(node)) return;
    for (const pair of node.items) {
      const name = keyText(pair);
      if (name === null || this.params.has(name)) continue;
      const value = this.plain(pair.value as Node | null);
      const param: ParamDef = {
        name,
        key: this.name(pair.key as Node),
        value,
        text: Array.isArray(value) ? value.map(String).join(' ') : String(value),
      };
      this.params.set(name, param);
      this.symbols.push({ span: param.key.span, symbol: { kind: 'param', param } });
    }
  }

  private readEnvironments(node: Node | null): void {
    if (!isMap(node)) return;
    for (const pair of node.items) {
      const name = keyText(pair);
      if (name === null || this.environments.has(name)) continue;
      const value = this.resolve(pair.value as Node | null);
      const kinds = isMap(value)
        ? value.items.map((item) => keyText(item)).filter((key): key is string => key !== null && ENVIRONMENT_KINDS.has(key))
        : [];
      const description = isMap(value) ? this.scalarText(this.field(value, 'description')) : undefined;
      const environment: EnvironmentDef = {
        name,
        key: this.name(pair.key as Node),
        kinds,
        ...(description !== undefined ? { description } : {}),
      };
      this.environments.set(name, environment);
      this.symbols.push({ span: environment.key.span, symbol: { kind: 'environment', environment } });
    }
  }

  private readDefaults(node: Node | null): void {
    if (!isMap(node)) return;
    const reference = this.environmentRef(this.field(node, 'environment'), undefined);
    if (reference) this.defaultEnvironment = reference;
  }

  private readTasks(node: Node | null): void {
    if (!isMap(node)) return;
    this.tasksNode = node;
    this.taskSymbolsStart = this.symbols.length;
    for (const pair of node.items) {
      const name = keyText(pair);
      if (name === null || this.tasks.has(name)) continue;
      const symbolStart = this.symbols.length;
      const task = this.readTask(name, pair);
      this.tasks.set(name, task);
      this.symbols.push({ span: task.key.span, symbol: { kind: 'task', task } });
      this.taskSymbolCounts.push(this.symbols.length - symbolStart);
    }
  }

  private readTask(name: string, pair: Pair): TaskDraft {
    const keySpan = spanOf(pair.key as Node);
    const value = this.resolve(pair.value as Node | null);
    const valueEnd = value?.range ? value.range[1] : keySpan.end;
    const task: TaskDraft = {
      name,
      key: this.name(pair.key as Node),
      whole: this.located({ start: keySpan.start, end: Math.max(keySpan.end, valueEnd) }),
      needs: [],
      matrix: [],
      inputs: [],
      outputs: [],
      metrics: [],
      templates: [],
      instances: [],
    };
    if (!isMap(value)) {
      this.addInstances(task);
      return task;
    }
    const mutable = task as { -readonly [K in keyof TaskDraft]: TaskDraft[K] };
    mutable.node = value;
    const fields = taskFields(value);
    const description = this.scalarText(fields.description ?? null);
    if (description !== undefined) mutable.description = description;
    const run = fields.run ?? null;
    const runText = this.scalarText(run);
    if (run && runText !== undefined) {
      const span = spanOf(run);
      mutable.run = this.track({ span, range: this.document.rangeOf(span), text: runText });
      this.scanTemplates(task, run);
    }
    const environment = this.environmentRef(fields.environment ?? null, task);
    if (environment) mutable.environment = environment;
    mutable.matrix = this.readMatrix(task, fields.matrix ?? null);
    task.inputs = this.readPaths(task, 'input', fields.inputs ?? null);
    task.outputs = this.readPaths(task, 'output', fields.outputs ?? null);
    task.metrics = this.readPaths(task, 'metrics', fields.metrics ?? null);
    const env = this.resolve(fields.env ?? null);
    if (isMap(env)) for (const item of env.items) this.scanTemplates(task, this.resolve(item.value as Node | null));
    this.readNeeds(task, fields.needs ?? null);
    this.addInstances(task);
    return task;
  }

  private readMatrix(task: TaskDraft, node: Node | null): MatrixAxis[] {
    if (!isMap(node)) return [];
    const axes: MatrixAxis[] = [];
    for (const pair of node.items) {
      const name = keyText(pair);
      if (name === null || axes.some((axis) => axis.name === name)) continue;
      const list = this.resolve(pair.value as Node | null);
      const values: MatrixValue[] = [];
      if (isSeq(list)) {
        for (const item of list.items) {
          const valueNode = this.resolve(item as Node | null);
          if (isScalar(valueNode) && valueNode.value !== null && typeof valueNode.value !== 'object') {
            const span = spanOf(item as Node);
            values.push(this.track({ span, range: this.document.rangeOf(span), text: String(valueNode.value) }));
          }
        }
      }
      const axis: MatrixAxis = { name, key: this.name(pair.key as Node), values };
      axes.push(axis);
      this.symbols.push({ span: axis.key.span, symbol: { kind: 'matrix-axis', task, axis } });
    }
    return axes;
  }

  private readPaths(task: TaskDraft, kind: PathKind, node: Node | null): PathEntry[] {
    const resolved = this.resolve(node);
    const items = isSeq(resolved) ? resolved.items : kind === 'metrics' && resolved ? [resolved] : [];
    const entries: PathEntry[] = [];
    for (const item of items) {
      const itemNode = this.resolve(item as Node | null);
      const raw = this.scalarText(itemNode);
      if (raw === undefined || raw === '' || !itemNode) continue;
      // Properties spelled out: an object spread here cost more than the rest of the model (V8 clones megamorphically).
      const span = spanOf(item as Node);
      const entry: PathEntry = this.track({ span, range: this.document.rangeOf(span), kind, raw, task });
      entries.push(entry);
      this.symbols.push({ span: entry.span, symbol: { kind: 'path', entry } });
      this.scanTemplates(task, itemNode);
    }
    return entries;
  }

  private readNeeds(task: TaskDraft, node: Node | null): void {
    const resolved = this.resolve(node);
    const items = isSeq(resolved) ? resolved.items : resolved ? [resolved] : [];
    for (const item of items) {
      const itemNode = this.resolve(item as Node | null);
      const name = isScalar(itemNode) && typeof itemNode.value === 'string' ? itemNode.value : undefined;
      if (name === undefined) continue;
      // Targets are filled in resolveNeeds, once every task is known.
      const located = this.name(item as Node);
      const ref: NeedRef = { span: located.span, range: located.range, name, task, targets: [] };
      task.needs.push(ref);
    }
  }

  /** Instances by name, the first of a name winning. */
  private indexInstances(): void {
    this.instancesByName = new Map();
    for (const instance of this.instances) if (!this.instancesByName.has(instance.name)) this.instancesByName.set(instance.name, instance);
  }

  /** Fills in every need's targets (again, after replaceTask: each ref is rebuilt from its written parts). */
  private resolveNeeds(): void {
    this.needRefs = [];
    this.needSymbolsStart = this.symbols.length;
    for (const task of this.tasks.values()) {
      task.needs = task.needs.map((ref) => {
        const byTask = this.tasks.get(ref.name);
        const byInstance = byTask ? undefined : this.instancesByName.get(ref.name);
        const targetTask = byTask ?? byInstance?.task;
        const targets = byTask ? byTask.instances : byInstance ? [byInstance] : [];
        const resolved: Mutable<NeedRef> = { span: ref.span, range: ref.range, name: ref.name, task: ref.task, targets };
        if (targetTask) resolved.targetTask = targetTask;
        this.needRefs.push(resolved);
        this.symbols.push({ span: resolved.span, symbol: { kind: 'need', ref: resolved } });
        return resolved;
      });
    }
  }

  private environmentRef(node: Node | null, task: TaskDraft | undefined): EnvironmentRef | undefined {
    const resolved = this.resolve(node);
    if (!node || !isScalar(resolved) || typeof resolved.value !== 'string') return undefined;
    const target = this.environments.get(resolved.value);
    const ref: EnvironmentRef = {
      ...this.name(node),
      name: resolved.value,
      ...(task ? { task } : {}),
      ...(target ? { target } : {}),
    };
    this.environmentRefs.push(ref);
    this.symbols.push({ span: ref.span, symbol: { kind: 'environment-ref', ref } });
    return ref;
  }

  // ---- templates and instances ----------------------------------------------------------------

  /** Finds `${params.x}` / `${matrix.x}` in the node's source text, so spans are exact even in quoted or block scalars. */
  private scanTemplates(task: TaskDraft, node: Node | null): void {
    if (!isScalar(node) || !node.range || typeof node.value !== 'string' || !node.value.includes('${')) return;
    const text = this.document.text;
    for (let match = nextTemplate(text, node.range[0], node.range[1]); match; match = nextTemplate(text, match.end, node.range[1])) {
      const { start: at, end, kind, nameStart } = match;
      const name = text.slice(nameStart, end - 1);
      const span = { start: at, end };
      const ref: TemplateRef = this.track({
        span,
        range: this.document.rangeOf(span),
        kind,
        name,
        nameAt: this.located({ start: nameStart, end: end - 1 }),
        task,
      });
      task.templates.push(ref);
      this.templateRefs.push(ref);
      this.symbols.push({ span: ref.span, symbol: kind === 'params' ? { kind: 'param-ref', ref } : { kind: 'matrix-ref', ref } });
    }
  }

  private addInstances(task: TaskDraft): void {
    const axes = task.matrix.filter((axis) => axis.values.length > 0);
    const combinations = axes.reduce((product, axis) => product * axis.values.length, 1);
    const room = this.limits.maxInstances - this.instances.length;
    const limit = Math.min(this.limits.maxInstancesPerTask, Math.max(room, 1));
    if (combinations > limit) {
      (task as { matrixTooLarge?: TaskDef['matrixTooLarge'] }).matrixTooLarge = { combinations, limit };
      this.addInstance(task, task.name, {});
      return;
    }
    if (axes.length === 0) {
      this.addInstance(task, task.name, {});
      return;
    }
    let partial: Record<string, string>[] = [{}];
    for (const axis of axes) {
      partial = partial.flatMap((combination) => axis.values.map((value) => ({ ...combination, [axis.name]: value.text })));
    }
    for (const combination of partial) this.addInstance(task, `${task.name}@${Object.values(combination).join('-')}`, combination);
  }

  private addInstance(task: TaskDraft, name: string, matrix: Record<string, string>): void {
    const instance: TaskInstance = {
      name,
      task,
      matrix,
      inputs: resolvePaths(task.inputs, this.params, matrix),
      outputs: resolvePaths(task.outputs, this.params, matrix),
      index: this.instances.length,
    };
    task.instances.push(instance);
    this.instances.push(instance);
  }

  // ---- YAML helpers ---------------------------------------------------------------------------

  /** A scalar's name without its quotes (what rename replaces and hover names). */
  private name(node: Node): Located {
    const span = spanOf(node);
    const quoted = isScalar(node) && (node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE') && span.end - span.start >= 2;
    return this.located(quoted ? { start: span.start + 1, end: span.end - 1 } : span);
  }

  private located(span: Span): Located {
    return this.track({ span, range: this.document.rangeOf(span) });
  }

  /** Records something located, so replaceTask can move it (editable models only). */
  private track<T extends Located>(located: T): T {
    this.made?.push(located);
    return located;
  }

  /** The value of a key in a mapping (the first, if duplicated), aliases resolved. */
  private field(map: YAMLMap, key: string): Node | null {
    for (const pair of map.items) {
      if (keyText(pair) === key) return (pair.value as Node | null) ?? null;
    }
    return null;
  }

  /** An alias resolved to its anchored node (one step: aliases of aliases do not exist in YAML). */
  private resolve(node: Node | null | undefined): Node | null {
    if (!node) return null;
    if (isAlias(node)) {
      const yaml = this.document.yaml;
      const target = yaml ? node.resolve(yaml) : undefined;
      return (target as Node | undefined) ?? null;
    }
    return node;
  }

  private scalarText(node: Node | null): string | undefined {
    const resolved = this.resolve(node);
    if (!isScalar(resolved) || resolved.value === null || typeof resolved.value === 'object') return undefined;
    return String(resolved.value);
  }

  /** Scalars and sequences of scalars as plain data (params); anything else as undefined. */
  private plain(node: Node | null): unknown {
    const resolved = this.resolve(node);
    if (isScalar(resolved)) return resolved.value;
    if (isSeq(resolved)) return resolved.items.map((item) => this.plain(item as Node | null));
    return undefined;
  }
}

const ENVIRONMENT_KINDS = new Set(['docker', 'conda', 'venv', 'local']);

/**
 * The values of the task fields the model reads, the first of a duplicated key winning (as
 * ModelBuilder.field finds them): one pass over the task's pairs instead of one per field.
 * Undefined: not written; null: written without a value. A class, so every task's fields have one shape.
 */
class TaskFields {
  description: Node | null | undefined = undefined;
  run: Node | null | undefined = undefined;
  environment: Node | null | undefined = undefined;
  matrix: Node | null | undefined = undefined;
  inputs: Node | null | undefined = undefined;
  outputs: Node | null | undefined = undefined;
  metrics: Node | null | undefined = undefined;
  env: Node | null | undefined = undefined;
  needs: Node | null | undefined = undefined;
}

function taskFields(map: YAMLMap): TaskFields {
  const fields = new TaskFields();
  for (const pair of map.items) {
    const key = keyText(pair);
    const value = (pair.value as Node | null) ?? null;
    switch (key) {
      case 'description':
        if (fields.description === undefined) fields.description = value;
        break;
      case 'run':
        if (fields.run === undefined) fields.run = value;
        break;
      case 'environment':
        if (fields.environment === undefined) fields.environment = value;
        break;
      case 'matrix':
        if (fields.matrix === undefined) fields.matrix = value;
        break;
      case 'inputs':
        if (fields.inputs === undefined) fields.inputs = value;
        break;
      case 'outputs':
        if (fields.outputs === undefined) fields.outputs = value;
        break;
      case 'metrics':
        if (fields.metrics === undefined) fields.metrics = value;
        break;
      case 'env':
        if (fields.env === undefined) fields.env = value;
        break;
      case 'needs':
        if (fields.needs === undefined) fields.needs = value;
        break;
    }
  }
  return fields;
}

function resolvePaths(entries: readonly PathEntry[], params: ReadonlyMap<string, ParamDef>, matrix: Readonly<Record<string, string>>): ResolvedPath[] {
  const resolved: ResolvedPath[] = new Array<ResolvedPath>(entries.length);
  for (let index = 0; index < entries.length; index++) resolved[index] = resolvePath(entries[index]!, params, matrix);
  return resolved;
}

/** Where `${params.NAME}` or `${matrix.NAME}` is written (what TEMPLATE matches, without a regex's match objects). */
export interface TemplateMatch {
  readonly start: number;
  /** After the closing brace. */
  readonly end: number;
  readonly kind: 'params' | 'matrix';
  readonly nameStart: number;
}

/** The first TEMPLATE match in `text[from, to)`, as `matchAll` over that slice would find it. */
export function nextTemplate(text: string, from: number, to: number): TemplateMatch | undefined {
  for (let at = text.indexOf('${', from); at !== -1 && at < to; at = text.indexOf('${', at + 1)) {
    const kind = text.startsWith('params.', at + 2) ? 'params' : text.startsWith('matrix.', at + 2) ? 'matrix' : undefined;
    if (!kind) continue;
    const nameStart = at + 9;
    let index = nameStart;
    while (index < to && text.charCodeAt(index) !== CLOSE_BRACE && !isRegExpSpace(text.charCodeAt(index))) index++;
    if (index < to && text.charCodeAt(index) === CLOSE_BRACE) return { start: at, end: index + 1, kind, nameStart };
  }
  return undefined;
}

const CLOSE_BRACE = 125;

/** What `\s` matches in a JavaScript regular expression. */
function isRegExpSpace(code: number): boolean {
  if (code <= 32) return code === 32 || (code >= 9 && code <= 13);
  if (code < 160) return false;
  return (
    code === 0xa0 || code === 0x1680 || (code >= 0x2000 && code <= 0x200a) || code === 0x2028 || code === 0x2029 ||
    code === 0x202f || code === 0x205f || code === 0x3000 || code === 0xfeff
  );
}

/** Substitutes `${params.x}` / `${matrix.x}` (unknown ones stay as written) and normalises the path. */
export function resolvePath(
  entry: PathEntry,
  params: ReadonlyMap<string, ParamDef>,
  matrix: Readonly<Record<string, string>>,
): ResolvedPath {
  const substituted = entry.raw.includes('${')
    ? entry.raw.replace(TEMPLATE, (whole, kind: string, name: string) => {
        const value = kind === 'params' ? params.get(name)?.text : matrix[name];
        return value ?? whole;
      })
    : entry.raw;
  const directory = substituted.endsWith('/');
  // The common case without normalisePath's intermediate object.
  if (isNormalised(substituted)) return { path: directory ? substituted.slice(0, -1) : substituted, directory, entry };
  return { path: normalisePath(substituted).path, directory, entry };
}

/** `./a//b/` → `{ path: 'a/b', directory: true }`; `.` and `./` → `''`. */
export function normalisePath(raw: string): { path: string; directory: boolean } {
  const directory = raw.endsWith('/');
  if (isNormalised(raw)) return { path: directory ? raw.slice(0, -1) : raw, directory };
  let path = posix.normalize(raw.replaceAll('\\', '/'));
  if (path.endsWith('/')) path = path.slice(0, -1);
  if (path === '.') path = '';
  return { path, directory };
}

const DOT_SEGMENT = /(?:^|\/)\.\.?(?:\/|$)/;

/** A path `posix.normalize` leaves as it is (no backslash, `//`, `.` or `..` segment): the common case. */
function isNormalised(raw: string): boolean {
  return raw !== '' && !raw.includes('\\') && !raw.includes('//') && !DOT_SEGMENT.test(raw);
}

// ---- definitions and references ---------------------------------------------------------------

function definitionOf(model: DagModel, symbol: DagSymbol): Located | undefined {
  switch (symbol.kind) {
    case 'task':
      return symbol.task.key;
    case 'need':
      return symbol.ref.targetTask?.key;
    case 'environment':
      return symbol.environment.key;
    case 'environment-ref':
      return symbol.ref.target?.key;
    case 'param':
      return symbol.param.key;
    case 'param-ref':
      return model.params.get(symbol.ref.name)?.key;
    case 'matrix-axis':
      return symbol.axis.key;
    case 'matrix-ref':
      return symbol.ref.task.matrix.find((axis) => axis.name === symbol.ref.name)?.key;
    case 'path':
      return undefined;
  }
}

function referencesOf(model: DagModel, symbol: DagSymbol): Located[] {
  switch (symbol.kind) {
    case 'task':
    case 'need': {
      const task = symbol.kind === 'task' ? symbol.task : symbol.ref.targetTask;
      if (!task) return [symbol.kind === 'need' ? symbol.ref : []].flat();
      // A need written `train@rf` refers to the task too; only its task part is the name.
      const uses = model.needRefs
        .filter((ref) => ref.targetTask === task)
        .map((ref) => (ref.name === task.name ? ref : nameOnly(model, ref, task.name.length)));
      return [task.key, ...uses];
    }
    case 'environment':
    case 'environment-ref': {
      const name = symbol.kind === 'environment' ? symbol.environment.name : symbol.ref.name;
      const definition = model.environments.get(name);
      const uses = model.environmentRefs.filter((ref) => ref.name === name);
      return definition ? [definition.key, ...uses] : uses;
    }
    case 'param':
    case 'param-ref': {
      const name = symbol.kind === 'param' ? symbol.param.name : symbol.ref.name;
      const definition = model.params.get(name);
      const uses = model.templateRefs.filter((ref) => ref.kind === 'params' && ref.name === name).map((ref) => ref.nameAt);
      return definition ? [definition.key, ...uses] : uses;
    }
    case 'matrix-axis':
    case 'matrix-ref': {
      const task = symbol.kind === 'matrix-axis' ? symbol.task : symbol.ref.task;
      const name = symbol.kind === 'matrix-axis' ? symbol.axis.name : symbol.ref.name;
      const axis = task.matrix.find((candidate) => candidate.name === name);
      const uses = task.templates.filter((ref) => ref.kind === 'matrix' && ref.name === name).map((ref) => ref.nameAt);
      return axis ? [axis.key, ...uses] : uses;
    }
    case 'path':
      return [symbol.entry];
  }
}

/** The first `length` characters of a reference (the `train` of `train@rf`). */
function nameOnly(model: DagModel, ref: Located, length: number): Located {
  const span = { start: ref.span.start, end: ref.span.start + length };
  return { span, range: model.document.rangeOf(span) };
}
