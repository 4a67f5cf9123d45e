/**
 * Registers every command once, at activation, from one table (STYLE.md "Lifetimes"). Each handler
 * behaves sensibly while the agent is starting or down: it reports instead of throwing.
 */
import * as vscode from 'vscode';
import type { AgentClient } from './agent/client';
import { COMMANDS, COMMANDS_THAT_EXECUTE, type CommandId } from './command-ids';

export interface CommandDeps {
  readonly agent: AgentClient;
  readonly output: vscode.OutputChannel;
  /** Set by the views registry: refreshes the Pipelines view. */
  readonly refreshPipelines: () => void;
}

type Handler = (deps: CommandDeps) => () => Promise<void> | void;

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
};

function guarded(id: CommandId, run: () => Promise<void> | void): () => Promise<void> {
  return async () => {
    if (COMMANDS_THAT_EXECUTE.includes(id) && !vscode.workspace.isTrusted) {
      void vscode.window.showWarningMessage('MLOps: this workspace is not trusted, so nothing is run in it.');
      return;
    }
    try {
      await run();
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
