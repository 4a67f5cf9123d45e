/**
 * How the agent process is started: which JavaScript runtime, which script, which arguments.
 * Kept free of vscode-languageclient so the choice is readable in one place.
 */
import * as path from 'node:path';

/** The agent is bundled next to the extension: dist/agent.js beside dist/extension.js. */
export function bundledAgentPath(extensionRoot: string): string {
  return path.join(extensionRoot, 'dist', 'agent.js');
}

export interface AgentLaunch {
  readonly command: string;
  readonly args: readonly string[];
  readonly env: NodeJS.ProcessEnv;
}

/**
 * With no `mlw.agent.nodePath`, the agent runs on the editor's own runtime: in desktop VS Code
 * process.execPath is the Electron binary, which behaves as plain Node when ELECTRON_RUN_AS_NODE=1
 * (what vscode-languageclient's own `fork` does); in code-server it already is Node.
 * We spawn it ourselves rather than use languageclient's `module` form because that form appends
 * `--clientProcessId=N` to the arguments, which the `mlw` CLI rejects as an unknown option.
 */
export function agentLaunch(options: {
  extensionRoot: string;
  configuredNodePath: string | undefined;
  editorRuntime: string;
  baseEnv: NodeJS.ProcessEnv;
}): AgentLaunch {
  const configured = options.configuredNodePath?.trim();
  const useEditorRuntime = configured === undefined || configured === '';
  const env: NodeJS.ProcessEnv = { ...options.baseEnv };
  if (useEditorRuntime) env['ELECTRON_RUN_AS_NODE'] = '1';
  return {
    command: useEditorRuntime ? options.editorRuntime : configured,
    args: [bundledAgentPath(options.extensionRoot), 'agent', '--stdio'],
    env,
  };
}
