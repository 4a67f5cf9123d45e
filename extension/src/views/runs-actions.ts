/**
 * What the Runs commands do: each is one RPC to the runs or results service, with the questions in
 * between (which task to start, confirm a delete, which runs to compare). From the view's context
 * menu a command gets the row's node (and, for Compare, the selected rows); from the palette, a
 * quick pick. Errors reach the user with the agent's own message (commands.ts `guarded`).
 */
import * as vscode from 'vscode';
import { listPipelines } from '../../../schemas/protocol/dag';
import { ModelName, promoteModel, pullResults, pushResults, reproduceRun } from '../../../schemas/protocol/results';
import { cancelRun, deleteRun, getRun, rerunRun, startRun, type RunSummary } from '../../../schemas/protocol/runs';
import type { AgentClient } from '../agent/client';
import { COMMANDS, type CommandId } from '../command-ids';
import type { Handler } from '../commands';
import { RunPanels } from '../webviews/runs-panels';
import { RunLogDocuments } from './run-logs';
import { isRemote, runDescription, runOfNode, taskChoices } from './runs-model';

export interface RunActions extends vscode.Disposable {
  readonly start: (node?: unknown) => Promise<void>;
  readonly cancel: (node?: unknown) => Promise<void>;
  readonly rerun: (node?: unknown) => Promise<void>;
  readonly delete: (node?: unknown) => Promise<void>;
  readonly openLog: (node?: unknown) => Promise<void>;
  readonly compare: (node?: unknown, selected?: unknown) => Promise<void>;
  readonly showMetrics: (node?: unknown) => Promise<void>;
  readonly push: (node?: unknown, selected?: unknown) => Promise<void>;
  readonly pull: () => Promise<void>;
  readonly promote: (node?: unknown) => Promise<void>;
  readonly reproduce: (node?: unknown) => Promise<void>;
}

interface RunActionDeps {
  readonly agent: AgentClient;
  /** The runs the view knows, newest first. */
  readonly runs: () => RunSummary[];
  /** The runs selected in the view. */
  readonly selection: () => RunSummary[];
  readonly reload: () => void;
}

const LIVE = new Set(['queued', 'running']);

/** A task from the Pipelines view's context menu (`{ kind: 'task', summary, task }`). */
function pipelineTaskOf(node: unknown): { dagFile: string; task: string } | undefined {
  if (typeof node !== 'object' || node === null || !('kind' in node) || node.kind !== 'task') return undefined;
  const typed = node as { summary?: { path?: unknown }; task?: { name?: unknown } };
  const dagFile = typed.summary?.path;
  const task = typed.task?.name;
  return typeof dagFile === 'string' && typeof task === 'string' ? { dagFile, task } : undefined;
}

function runPick(run: RunSummary): vscode.QuickPickItem & { run: RunSummary } {
  return { label: run.name, description: `${run.id.slice(0, 8)} · ${runDescription(run, Date.now())}`, run };
}

export function createRunActions(deps: RunActionDeps): RunActions {
  const { agent } = deps;
  const logs = new RunLogDocuments(agent);
  const panels = new RunPanels(agent);

  async function pickRun(
    node: unknown,
    title: string,
    filter: (run: RunSummary) => boolean,
  ): Promise<RunSummary | undefined> {
    const fromNode = runOfNode(node);
    if (fromNode) return fromNode;
    const candidates = deps.runs().filter(filter);
    if (candidates.length === 0) {
      void vscode.window.showInformationMessage(`MLOps: no run to ${title.toLowerCase()}.`);
      return undefined;
    }
    return (await vscode.window.showQuickPick(candidates.map(runPick), { title, matchOnDescription: true }))?.run;
  }

  async function pickTask(): Promise<{ dagFile: string; task: string } | undefined> {
    const pipelines = await agent.request(listPipelines, {});
    const choices = taskChoices(pipelines, (path) => vscode.workspace.asRelativePath(path));
    if (choices.length === 0) {
      void vscode.window.showInformationMessage('MLOps: no DAG file here has a task to run.');
      return undefined;
    }
    return vscode.window.showQuickPick(choices, { title: 'Start Run: pick a task', matchOnDescription: true });
  }

  function started(ids: readonly string[], what: string): void {
    void vscode.window.setStatusBarMessage(
      `MLOps: started ${what} (${ids.map((id) => id.slice(0, 8)).join(', ')})`,
      5_000,
    );
  }

  return {
    start: async (node) => {
      const choice = pipelineTaskOf(node) ?? (await pickTask());
      if (!choice) return;
      const { ids } = await agent.request(startRun, { task: choice.task, dagFile: choice.dagFile });
      started(ids, choice.task);
    },
    cancel: async (node) => {
      const run = await pickRun(node, 'Cancel Run', (candidate) => LIVE.has(candidate.status));
      if (!run) return;
      const { status } = await agent.request(cancelRun, { id: run.id });
      void vscode.window.setStatusBarMessage(`MLOps: run ${run.name} is ${status}`, 5_000);
    },
    rerun: async (node) => {
      const run = await pickRun(node, 'Re-run', (candidate) => !LIVE.has(candidate.status));
      if (!run) return;
      const { ids } = await agent.request(rerunRun, { id: run.id });
      started(ids, run.name);
    },
    delete: async (node) => {
      const run = await pickRun(node, 'Delete Run', (candidate) => !LIVE.has(candidate.status));
      if (!run) return;
      const answer = await vscode.window.showWarningMessage(
        `Delete the record of run ${run.name} (${run.id.slice(0, 8)})? Its params, metrics and log are removed; its artifacts stay in the cache.`,
        { modal: true },
        'Delete',
      );
      if (answer !== 'Delete') return;
      await agent.request(deleteRun, { id: run.id });
    },
    openLog: async (node) => {
      const run = await pickRun(node, 'Open Log', () => true);
      if (run) await logs.open(run.id, run.name);
    },
    compare: async (node, selected) => {
      const fromMenu = Array.isArray(selected) ? selected.map(runOfNode) : [runOfNode(node)];
      let runs = fromMenu.filter((run): run is RunSummary => run !== undefined);
      if (runs.length < 2) runs = deps.selection();
      if (runs.length < 2) {
        const picked = await vscode.window.showQuickPick(deps.runs().map(runPick), {
          title: 'Compare Runs: pick two or more',
          canPickMany: true,
          matchOnDescription: true,
        });
        runs = (picked ?? []).map((pick) => pick.run);
      }
      if (runs.length < 2) {
        if (runs.length === 1) void vscode.window.showInformationMessage('MLOps: pick at least two runs to compare.');
        return;
      }
      panels.showComparison(runs.map((run) => run.id));
    },
    showMetrics: async (node) => {
      const run = await pickRun(node, 'Show Metrics', () => true);
      if (run) panels.showMetrics(run.id);
    },
    push: async (node, selected) => {
      const chosen = (Array.isArray(selected) ? selected.map(runOfNode) : [runOfNode(node)]).filter(
        (run): run is RunSummary => run !== undefined && !isRemote(run),
      );
      const report = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: 'MLOps: pushing results…' },
        () => agent.request(pushResults, chosen.length > 0 ? { ids: chosen.map((run) => run.id) } : {}),
      );
      void vscode.window.showInformationMessage(
        report.published.length === 0
          ? `MLOps: ${report.remote} already has every finished run.`
          : `MLOps: ${report.published.length} run(s) published to ${report.remote}.`,
      );
    },
    pull: async () => {
      const report = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: "MLOps: pulling the team's runs…" },
        () => agent.request(pullResults, {}),
      );
      deps.reload();
      void vscode.window.showInformationMessage(
        `MLOps: ${report.imported.length} new run(s) from ${report.remote}${report.imported.length === 0 ? '' : ', marked remote'}.`,
      );
    },
    promote: async (node) => {
      const run = await pickRun(node, 'Promote Model', (candidate) => candidate.status === 'succeeded');
      if (!run) return;
      const { artifacts } = await agent.request(getRun, { id: run.id });
      if (artifacts.length === 0) {
        void vscode.window.showInformationMessage(`MLOps: run ${run.name} recorded no artifact to promote.`);
        return;
      }
      const artifact =
        artifacts.length === 1
          ? artifacts[0]!.path
          : await vscode.window.showQuickPick(
              artifacts.map((entry) => entry.path),
              { title: 'Promote Model: the artifact' },
            );
      if (artifact === undefined) return;
      const name = await vscode.window.showInputBox({
        title: `Promote ${artifact} of ${run.name}`,
        prompt: 'The model name; the artifact becomes its next version',
        value: (run.task ?? run.name).split('@')[0],
        validateInput: (value) => {
          const parsed = ModelName.safeParse(value);
          return parsed.success ? undefined : parsed.error.issues[0]?.message;
        },
      });
      if (name === undefined) return;
      const model = await agent.request(promoteModel, { id: run.id, name, artifact });
      deps.reload();
      void vscode.window.showInformationMessage(
        `MLOps: ${model.name} v${model.version} is ${artifact} of run ${run.name}.`,
      );
    },
    reproduce: async (node) => {
      const run = await pickRun(node, 'Reproduce Run', (candidate) => !LIVE.has(candidate.status));
      if (!run) return;
      const result = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `MLOps: reproducing ${run.name} at its commit…` },
        () => agent.request(reproduceRun, { id: run.id }),
      );
      const COMPARE = 'Compare';
      const answer = await vscode.window.showInformationMessage(
        `MLOps: reproducing ${run.name} as ${result.ids.map((id) => id.slice(0, 8)).join(', ')} in ${result.worktree}` +
          (result.datasets.length > 0 ? ` (datasets: ${result.datasets.join(', ')})` : ''),
        COMPARE,
      );
      if (answer === COMPARE) panels.showComparison([run.id, ...result.ids]);
    },
    dispose: () => {
      logs.dispose();
      panels.dispose();
    },
  };
}

export const RUN_COMMAND_HANDLERS = {
  [COMMANDS.refreshRuns]:
    ({ runs }) =>
    () =>
      runs.refresh(),
  [COMMANDS.startRun]:
    ({ runs }) =>
    (node) =>
      runs.actions.start(node),
  [COMMANDS.cancelRun]:
    ({ runs }) =>
    (node) =>
      runs.actions.cancel(node),
  [COMMANDS.rerunRun]:
    ({ runs }) =>
    (node) =>
      runs.actions.rerun(node),
  [COMMANDS.deleteRun]:
    ({ runs }) =>
    (node) =>
      runs.actions.delete(node),
  [COMMANDS.openRunLog]:
    ({ runs }) =>
    (node) =>
      runs.actions.openLog(node),
  [COMMANDS.compareRuns]:
    ({ runs }) =>
    (node, selected) =>
      runs.actions.compare(node, selected),
  [COMMANDS.showRunMetrics]:
    ({ runs }) =>
    (node) =>
      runs.actions.showMetrics(node),
  [COMMANDS.pushResults]:
    ({ runs }) =>
    (node, selected) =>
      runs.actions.push(node, selected),
  [COMMANDS.pullResults]:
    ({ runs }) =>
    () =>
      runs.actions.pull(),
  [COMMANDS.promoteModel]:
    ({ runs }) =>
    (node) =>
      runs.actions.promote(node),
  [COMMANDS.reproduceRun]:
    ({ runs }) =>
    (node) =>
      runs.actions.reproduce(node),
} satisfies Partial<Record<CommandId, Handler>>;
