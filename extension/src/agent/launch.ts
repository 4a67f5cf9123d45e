/**
 * How the agent process is started: which JavaScript runtime, which script, which arguments.
 * Kept free of vscode-languageclient so the choice is readable in one place.
 */
import * as path from 'node:path';

/** The agent is bundled next to the extension: dist/agent.js beside dist/extension.js. */
export function bundledAgentPath(extensionRoot: string): string {
  return path.join(extensionRoot, 'dist', 'agent.js');
}

/**
 * V8 flags the agent runs with: a young generation of 32 MB per semi-space from the start, growing
 * to 128 MB. A full validation of a large DAG (the 5,000-task benchmark allocates ~60 MB) then
 * dies young instead of being promoted; promoted bytes land on fresh old-space pages, and on the
 * VMs we measured a page fault costs ~20 µs, so with Node's default (16 MB at most) a third of each
 * validation was the kernel handing out pages. Without the 32 MB start, V8 grew the space late or
 * not at all in some runs. Cost: ~20 MB more resident for a small workspace. Figures:
 * docs/dag-validation-speed.md. Only the long-lived agent gets them: a one-shot `mlw validate`
 * measured no faster with them.
 */
export const AGENT_V8_FLAGS: readonly string[] = ['--min-semi-space-size=32', '--max-semi-space-size=128'];

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
    args: [...AGENT_V8_FLAGS, bundledAgentPath(options.extensionRoot), 'agent', '--stdio'],
    env,
  };
}
