/**
 * Running and explaining a DAG file from its editor: code lenses above each task (Run Task, Run from
 * Here, Explain) and above the file's first task (Run Pipeline, Explain All, Show Graph), placed at
 * the task keys' ranges that mlw/dag/listPipelines reports (no YAML is parsed here). A run follows
 * mlw/pipeline/changed in a progress notification whose Cancel sends mlw/pipeline/cancel; an
 * explanation is listed in a quick pick and in the "MLOps Pipelines" Output channel.
 */
import * as vscode from 'vscode';
import { listPipelines, pipelinesChanged, type PipelineSummary } from '../../../schemas/protocol/dag';
import {
  cancelPipeline,
  explainPipeline,
  pipelineChanged,
  runPipeline,
  type PipelineRunState,
} from '../../../schemas/protocol/pipeline';
import type { AgentClient } from '../agent/client';
import { DAG_LANGUAGE_ID } from '../agent/client';
import { COMMANDS, type CommandId } from '../command-ids';
import type { Handler } from '../commands';
import { DagGraphPanels } from '../webviews/dag-graph';
import {
  explanationLines,
  explanationPicks,
  outcomeMessage,
  percentDone,
  PipelineRunStates,
  pipelinesViewTarget,
  progressMessage,
  summaryFor,
  taskLenses,
} from './dag-run-model';

/** Lens and palette arguments: the DAG file's absolute path and, for task commands, the task key. */
type Target = { readonly dagFile: string; readonly task?: string };

export interface DagActions {
  readonly runFile: (dagFile?: unknown) => Promise<void>;
  readonly runTask: (dagFile?: unknown, task?: unknown) => Promise<void>;
  readonly runFrom: (dagFile?: unknown, task?: unknown) => Promise<void>;
  readonly explain: (dagFile?: unknown, task?: unknown) => Promise<void>;
  readonly showGraph: (dagFile?: unknown) => Promise<void>;
}

export interface DagEditor {
  readonly actions: DagActions;
  readonly disposable: vscode.Disposable;
}

function toRange(range: PipelineSummary['tasks'][number]['range']): vscode.Range {
  return new vscode.Range(range.start.line, range.start.character, range.end.line, range.end.character);
}

class DagLensProvider implements vscode.CodeLensProvider {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.changed.event;

  constructor(private readonly agent: AgentClient) {}

  refresh(): void {
    this.changed.fire();
  }

  dispose(): void {
    this.changed.dispose();
  }

  async provideCodeLenses(document: vscode.TextDocument): Promise<vscode.CodeLens[]> {
    if (this.agent.state.kind !== 'ready') return [];
    const summary = summaryFor(await this.agent.request(listPipelines, {}), document.uri.fsPath);
    if (!summary) return [];
    const dagFile = summary.path;
    const lenses = taskLenses(summary);
    const first = lenses[0];
    const fileLenses = first
      ? [
          lens(first.range, '$(run-all) Run Pipeline', COMMANDS.runPipeline, [dagFile]),
          lens(first.range, 'Explain All', COMMANDS.explainPipeline, [dagFile]),
          lens(first.range, '$(type-hierarchy) Show Graph', COMMANDS.showPipelineGraph, [dagFile]),
        ]
      : [];
    const perTask = lenses.flatMap((task) => {
      const matrix = task.instances.length > 1 ? ` (${task.instances.length} instances)` : '';
      return [
        lens(task.range, `$(play) Run Task${matrix}`, COMMANDS.runPipelineTask, [dagFile, task.task]),
        lens(task.range, 'Run from Here', COMMANDS.runPipelineFrom, [dagFile, task.task]),
        lens(task.range, 'Explain', COMMANDS.explainPipeline, [dagFile, task.task]),
      ];
    });
    return [...fileLenses, ...perTask];
  }
}

function lens(
  range: PipelineSummary['tasks'][number]['range'],
  title: string,
  command: CommandId,
  args: unknown[],
): vscode.CodeLens {
  return new vscode.CodeLens(toRange(range), { title, command, arguments: args });
}

export function createDagEditor(agent: AgentClient): DagEditor {
  const states = new PipelineRunStates();
  const output = vscode.window.createOutputChannel('MLOps Pipelines');
  const graphs = new DagGraphPanels(agent, states, (message) => output.appendLine(message));
  const lenses = new DagLensProvider(agent);

  /** The file a command is about: its argument, else the active DAG editor's file. */
  function dagFileOf(argument: unknown): string | undefined {
    if (typeof argument === 'string' && argument !== '') return argument;
    const fromView = pipelinesViewTarget(argument);
    if (fromView) return fromView.dagFile;
    if (argument instanceof vscode.Uri) return argument.fsPath;
    const document = vscode.window.activeTextEditor?.document;
    if (document?.languageId === DAG_LANGUAGE_ID && document.uri.scheme === 'file') return document.uri.fsPath;
    void vscode.window.showInformationMessage('MLOps: open a DAG file (*.dag.yaml) first.');
    return undefined;
  }

  async function targetOf(fileArgument: unknown, taskArgument: unknown, title: string): Promise<Target | undefined> {
    const dagFile = dagFileOf(fileArgument);
    if (!dagFile) return undefined;
    if (typeof taskArgument === 'string' && taskArgument !== '') return { dagFile, task: taskArgument };
    const fromView = pipelinesViewTarget(fileArgument);
    if (fromView?.task) return fromView;
    const summary = summaryFor(await agent.request(listPipelines, {}), dagFile);
    const tasks = summary ? taskLenses(summary) : [];
    const picked = await vscode.window.showQuickPick(
      tasks.map((task) => ({
        label: task.task,
        description: task.instances.length > 1 ? task.instances.join(', ') : '',
      })),
      { title },
    );
    return picked ? { dagFile, task: picked.label } : undefined;
  }

  /** Resolves when the agent stops being ready (a DAG run cannot report its end then). */
  function agentGone(): { promise: Promise<undefined>; dispose: () => void } {
    let subscription: vscode.Disposable | undefined;
    const promise = new Promise<undefined>((resolve) => {
      subscription = agent.onDidChangeState((state) => {
        if (state.kind !== 'ready') resolve(undefined);
      });
    });
    return { promise, dispose: () => subscription?.dispose() };
  }

  async function run(dagFile: string, selection: { task?: string; from?: string }, what: string): Promise<void> {
    const { dagRunId } = await agent.request(runPipeline, { dagFile, ...selection });
    const gone = agentGone();
    let final: PipelineRunState | undefined;
    try {
      final = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `MLOps: ${what}`, cancellable: true },
        (progress, token) => {
          token.onCancellationRequested(() => {
            progress.report({ message: 'cancelling: stopping the running tasks…' });
            agent.request(cancelPipeline, { dagRunId }).catch((error: unknown) => {
              output.appendLine(`cancel ${dagRunId}: ${error instanceof Error ? error.message : String(error)}`);
            });
          });
          let reported = 0;
          const followed = states.follow(dagRunId, (state) => {
            const percent = percentDone(state);
            progress.report({ message: progressMessage(state), increment: percent - reported });
            reported = percent;
          });
          return Promise.race([followed, gone.promise]);
        },
      );
    } finally {
      gone.dispose();
    }
    if (!final) {
      void vscode.window.showWarningMessage(`MLOps: the agent stopped while ${what} was going on; see the Runs view.`);
      return;
    }
    const message = `MLOps: ${outcomeMessage(final)}`;
    const choice =
      final.status === 'failed'
        ? await vscode.window.showErrorMessage(message, 'Show Graph')
        : await vscode.window.showInformationMessage(message, 'Show Graph');
    if (choice === 'Show Graph') await graphs.show(dagFile);
  }

  async function explain(target: Target): Promise<void> {
    const explanation = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Window, title: 'MLOps: explaining…' },
      () => agent.request(explainPipeline, { dagFile: target.dagFile, ...(target.task ? { task: target.task } : {}) }),
    );
    output.appendLine(explanationLines(explanation).join('\n'));
    const summary = summaryFor(await agent.request(listPipelines, {}), target.dagFile);
    const picked = await vscode.window.showQuickPick(explanationPicks(explanation), {
      title: `Explain ${explanation.dagFile}${target.task ? ` (${target.task} and what it needs)` : ''}: what a run would do now`,
      matchOnDescription: true,
      matchOnDetail: true,
    });
    const task = picked && summary?.tasks.find((candidate) => candidate.name === picked.name);
    if (task) {
      await vscode.window.showTextDocument(vscode.Uri.file(target.dagFile), { selection: toRange(task.range) });
    }
  }

  const actions: DagActions = {
    runFile: async (fileArgument) => {
      const dagFile = dagFileOf(fileArgument);
      if (dagFile) await run(dagFile, {}, `running ${vscode.workspace.asRelativePath(dagFile)}`);
    },
    runTask: async (fileArgument, taskArgument) => {
      const target = await targetOf(fileArgument, taskArgument, 'Run Task: pick a task');
      if (target?.task) await run(target.dagFile, { task: target.task }, `running ${target.task}`);
    },
    runFrom: async (fileArgument, taskArgument) => {
      const target = await targetOf(fileArgument, taskArgument, 'Run from Here: pick the first task');
      if (target?.task) await run(target.dagFile, { from: target.task }, `running from ${target.task}`);
    },
    explain: async (fileArgument, taskArgument) => {
      const dagFile = dagFileOf(fileArgument);
      if (!dagFile) return;
      const task =
        typeof taskArgument === 'string' && taskArgument !== ''
          ? taskArgument
          : pipelinesViewTarget(fileArgument)?.task;
      await explain(task ? { dagFile, task } : { dagFile });
    },
    showGraph: async (fileArgument) => {
      const dagFile = dagFileOf(fileArgument);
      if (dagFile) await graphs.show(dagFile);
    },
  };

  return {
    actions,
    disposable: vscode.Disposable.from(
      output,
      graphs,
      lenses,
      vscode.languages.registerCodeLensProvider({ language: DAG_LANGUAGE_ID, scheme: 'file' }, lenses),
      agent.onNotification(pipelineChanged, (state) => states.apply(state)),
      agent.onNotification(pipelinesChanged, () => lenses.refresh()),
      agent.onDidChangeState(() => lenses.refresh()),
    ),
  };
}

export const DAG_COMMAND_HANDLERS = {
  [COMMANDS.runPipeline]:
    ({ dag }) =>
    (dagFile) =>
      dag.actions.runFile(dagFile),
  [COMMANDS.runPipelineTask]:
    ({ dag }) =>
    (dagFile, task) =>
      dag.actions.runTask(dagFile, task),
  [COMMANDS.runPipelineFrom]:
    ({ dag }) =>
    (dagFile, task) =>
      dag.actions.runFrom(dagFile, task),
  [COMMANDS.explainPipeline]:
    ({ dag }) =>
    (dagFile, task) =>
      dag.actions.explain(dagFile, task),
  [COMMANDS.showPipelineGraph]:
    ({ dag }) =>
    (dagFile) =>
      dag.actions.showGraph(dagFile),
} satisfies Partial<Record<CommandId, Handler>>;
