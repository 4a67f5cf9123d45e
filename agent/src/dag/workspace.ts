/**
 * The DAG files the agent serves: the text of DAG documents open in the editor (unsaved text wins
 * over the disk) and the latest summaries, shared by the diagnostics glue (which sees documents
 * open and change) and the mlw/dag/* handlers (which answer listPipelines).
 *
 * Both sides are handed the same AgentContext, so the workspace is found through it (a WeakMap,
 * not a global: a test's second server gets its own).
 */
import { stat } from 'node:fs/promises';
import type { PipelineSummary } from '../../../schemas/protocol/dag';
import type { AgentContext } from '../context';
import { discoverDagFiles } from './discover';
import { pipelineSummary, validateDagFile, validateDagText } from './files';

interface CachedSummary {
  /** `open:<version>` or `disk:<mtime>:<size>`: the summary stays valid while this is unchanged. */
  readonly stamp: string;
  readonly summary: PipelineSummary;
}

export class DagWorkspace {
  /** Absolute path → text and version of DAG documents open in the editor. */
  private readonly open = new Map<string, { text: string; version: number }>();
  private readonly summaries = new Map<string, CachedSummary>();

  constructor(private readonly roots: () => readonly string[]) {}

  setOpen(path: string, text: string, version: number): void {
    this.open.set(path, { text, version });
  }

  close(path: string): void {
    this.open.delete(path);
  }

  /** Every DAG file under the roots plus every open one, validated (cached while unchanged). */
  async listPipelines(): Promise<PipelineSummary[]> {
    const found = new Set<string>();
    for (const root of this.roots()) for (const path of await discoverDagFiles(root)) found.add(path);
    for (const path of this.open.keys()) found.add(path);
    const summaries: PipelineSummary[] = [];
    for (const path of [...found].sort()) {
      const summary = await this.summaryOf(path);
      if (summary) summaries.push(summary);
    }
    return summaries;
  }

  private async summaryOf(path: string): Promise<PipelineSummary | undefined> {
    const open = this.open.get(path);
    let stamp: string;
    if (open) {
      stamp = `open:${open.version}`;
    } else {
      const stats = await stat(path).catch(() => undefined);
      if (!stats) return undefined;
      stamp = `disk:${stats.mtimeMs}:${stats.size}`;
    }
    const cached = this.summaries.get(path);
    if (cached?.stamp === stamp) return cached.summary;
    const validation = open ? validateDagText(path, open.text) : await validateDagFile(path).catch(() => undefined);
    if (!validation) return undefined;
    const summary = pipelineSummary(validation);
    this.summaries.set(path, { stamp, summary });
    return summary;
  }
}

const workspaces = new WeakMap<AgentContext, DagWorkspace>();

export function dagWorkspaceFor(context: AgentContext): DagWorkspace {
  let workspace = workspaces.get(context);
  if (!workspace) {
    workspace = new DagWorkspace(() => context.workspaceRoots);
    workspaces.set(context, workspace);
  }
  return workspace;
}
