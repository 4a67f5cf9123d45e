/**
 * Activation: wires the agent connection, the status bar item, the views and the commands together.
 * Everything here lives as long as the extension (context.subscriptions); what lives as long as one
 * agent process is owned by AgentClient.
 */
import * as vscode from 'vscode';
import { AgentClient } from './agent/client';
import { registerCommands } from './commands';
import { createAgentStatusItem } from './status';
import { createViews } from './views';
import { createDagEditor } from './views/dag-run';

let agent: AgentClient | undefined;

export function activate(context: vscode.ExtensionContext): void {
  const output = vscode.window.createOutputChannel('MLOps Workbench');
  agent = new AgentClient(context.extensionPath, output);
  const { views, disposable: viewsDisposable } = createViews(agent);
  const dag = createDagEditor(agent);
  context.subscriptions.push(
    output,
    agent,
    createAgentStatusItem(agent),
    viewsDisposable,
    dag.disposable,
    registerCommands({ agent, output, refreshPipelines: views.pipelines.refresh, branches: views.branches, runs: views.runs, dag, datasets: views.datasets, environments: views.environments }),
    restartOnSettingChange(agent),
    // The agent learns at start whether the workspace is trusted (initializationOptions).
    vscode.workspace.onDidGrantWorkspaceTrust(() => void agent?.restart()),
  );
  void agent.start();
}

/** The runtime that runs the agent is read at start; a change takes effect by restarting it. */
function restartOnSettingChange(client: AgentClient): vscode.Disposable {
  return vscode.workspace.onDidChangeConfiguration((event) => {
    if (event.affectsConfiguration('mlw.agent.nodePath')) void client.restart();
  });
}

export async function deactivate(): Promise<void> {
  await agent?.stop();
  agent = undefined;
}
