/** What every service is handed: where it works and how it reports. Passed in, never imported globally. */
import type { z } from 'zod';
import type { NotificationType } from '../../schemas/rpc';

export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/** Sends a protocol notification (checked against its declaration) to the editor. */
export type Notify = <P extends z.ZodType>(notification: NotificationType<P>, params: z.input<P>) => void;

export interface AgentContext {
  /** Absolute paths of the workspace folders the agent serves (the cwd for the CLI). */
  readonly workspaceRoots: readonly string[];
  readonly log: Logger;
  /** Present in the agent (not the CLI): how services push change notifications. */
  readonly notify?: Notify;
  /**
   * The editor said the workspace is trusted (initializationOptions.workspaceTrusted): the agent
   * may then also accept `mlw run` from the workspace's terminals (agent/src/runs/handoff-server.ts).
   */
  readonly workspaceTrusted?: boolean;
}

/** Logs to stderr: the agent's stdout belongs to the protocol. */
export const stderrLogger: Logger = {
  info: (message) => process.stderr.write(`[info] ${message}\n`),
  warn: (message) => process.stderr.write(`[warn] ${message}\n`),
  error: (message) => process.stderr.write(`[error] ${message}\n`),
};
