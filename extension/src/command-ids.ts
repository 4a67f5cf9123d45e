/**
 * Every command the extension contributes, by id. Kept free of `vscode` so a unit test can check
 * package.json against it (each id contributed, each command that executes anything gated on trust).
 */
export const COMMANDS = {
  restartAgent: 'mlw.restartAgent',
  showAgentLog: 'mlw.showAgentLog',
  refreshPipelines: 'mlw.pipelines.refresh',
} as const;

export type CommandId = (typeof COMMANDS)[keyof typeof COMMANDS];

/**
 * Commands that execute user code (runs, pipelines). In Restricted Mode they are disabled
 * (`enablement: isWorkspaceTrusted` in package.json) and refuse to run even if invoked.
 * None yet: validation and browsing execute nothing.
 */
export const COMMANDS_THAT_EXECUTE: readonly CommandId[] = [];
