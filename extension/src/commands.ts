/**
 * Registers every command once, at activation, from one table (STYLE.md "Lifetimes"). Each handler
 * behaves sensibly while the agent is starting or down: it reports instead of throwing.
 */
import * as vscode from 'vscode';
import type { AgentClient } from './agent/client';
import { COMMANDS, COMMANDS_THAT_EXECUTE, type CommandId } from './command-ids';
import { BRANCH_COMMAND_HANDLERS, type BranchActions } from './views/branches-actions';
import type { RunsView } from './views/runs';
import { RUN_COMMAND_HANDLERS } from './views/runs-actions';
import { DAG_COMMAND_HANDLERS, type DagEditor } from './views/dag-run';
import { DATASET_COMMAND_HANDLERS, type DatasetsView } from './views/datasets';
import { ENVIRONMENT_COMMAND_HANDLERS, type EnvironmentsView } from './views/environments';

export interface CommandDeps {
  readonly agent: AgentClient;
  readonly output: vscode.OutputChannel;
  /** Set by the views registry: refreshes the Pipelines view. */
  readonly refreshPipelines: () => void;
  /** Set by the views registry: the Branches view's refresh and actions. */
  readonly branches: { readonly refresh: () => void; readonly actions: BranchActions };
  /** Set by the views registry: the Runs view's refresh and actions. */
  readonly runs: Pick<RunsView, 'refresh' | 'actions'>;
  /** The DAG editor's run, explain and graph actions (code lenses, editor title). */
  readonly dag: Pick<DagEditor, 'actions'>;
  /** Set by the views registry: the Datasets view's refresh and actions. */
  readonly datasets: Pick<DatasetsView, 'refresh' | 'actions'>;
  /** Set by the views registry: the Environments view's refresh and actions. */
  readonly environments: Pick<EnvironmentsView, 'refresh' | 'actions'>;
}

/** A context-menu command gets the tree node it was invoked on; a palette command gets nothing. */
export type Handler = (deps: CommandDeps) => (...args: unknown[]) => Promise<void> | void;

const handlers: Record<CommandId, Handler> = {
  [COMMANDS.restartAgent]:
    ({ agent }) =>
    async () => {
      await agent.restart();
    },
  [COMMANDS.showAgentLog]:
    ({ output }) =>
    () =>
      output.show(true),
  [COMMANDS.refreshPipelines]:
    ({ refreshPipelines }) =>
    () =>
      refreshPipelines(),
  ...BRANCH_COMMAND_HANDLERS,
  ...RUN_COMMAND_HANDLERS,
  ...DAG_COMMAND_HANDLERS,
  ...DATASET_COMMAND_HANDLERS,
  ...ENVIRONMENT_COMMAND_HANDLERS,
};

function guarded(
  id: CommandId,
  run: (...args: unknown[]) => Promise<void> | void,
): (...args: unknown[]) => Promise<void> {
  return async (...args) => {
    if (COMMANDS_THAT_EXECUTE.includes(id) && !vscode.workspace.isTrusted) {
      void vscode.window.showWarningMessage('MLOps: this workspace is not trusted, so nothing is run in it.');
      return;
    }
    try {
      await run(...args);
    } catch (error) {
      void vscode.window.showErrorMessage(`MLOps: ${error instanceof Error ? error.message : String(error)}`);
    }
  };
}

export function registerCommands(deps: CommandDeps): vscode.Disposable {
  const ids = Object.keys(handlers) as CommandId[];
  return vscode.Disposable.from(
    ...ids.map((id) => vscode.commands.registerCommand(id, guarded(id, handlers[id](deps)))),
  );
}
