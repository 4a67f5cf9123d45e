/** The status bar item: the agent's state at a glance; a click shows its log. */
import * as vscode from 'vscode';
import type { AgentClient } from './agent/client';
import type { AgentState } from './agent/state';
import { COMMANDS } from './command-ids';

interface Look {
  readonly text: string;
  readonly tooltip: string;
  readonly background?: vscode.ThemeColor;
}

function lookOf(state: AgentState): Look {
  switch (state.kind) {
    case 'starting':
      return { text: '$(sync~spin) MLW', tooltip: 'MLOps agent: starting' };
    case 'ready':
      return {
        text: `$(pass) MLW ${state.version}`,
        tooltip: `MLOps agent: ready (${state.version}, pid ${state.pid})`,
      };
    case 'stopped':
      return { text: '$(circle-slash) MLW', tooltip: 'MLOps agent: stopped — run "MLOps: Restart Agent"' };
    case 'error':
      return {
        text: '$(error) MLW',
        tooltip: `MLOps agent: error — ${state.message}`,
        background: new vscode.ThemeColor('statusBarItem.errorBackground'),
      };
  }
}

export function createAgentStatusItem(agent: AgentClient): vscode.Disposable {
  const item = vscode.window.createStatusBarItem('mlw.agentStatus', vscode.StatusBarAlignment.Left, 0);
  item.name = 'MLOps agent';
  item.command = COMMANDS.showAgentLog;
  const show = (state: AgentState): void => {
    const look = lookOf(state);
    item.text = look.text;
    item.tooltip = look.tooltip;
    item.backgroundColor = look.background;
    item.accessibilityInformation = { label: look.tooltip };
  };
  show(agent.state);
  item.show();
  return vscode.Disposable.from(item, agent.onDidChangeState(show));
}
