/**
 * The zod-free half of the hand-off protocol (schemas/protocol/handoff.ts), for the thin client:
 * the version and what the agent sends.
 */
export const HAND_OFF_VERSION = 1;

/**
 * Sent by the agent: text for the client's stdout or stderr; `declined` (nothing was started: run
 * the command in-process instead, e.g. a host environment that needs the client's own environment
 * variables); `exit` (the command is over, exit with this code).
 */
export type HandOffAgentMessage =
  | { readonly type: 'stdout'; readonly text: string }
  | { readonly type: 'stderr'; readonly text: string }
  | { readonly type: 'declined'; readonly reason: string }
  | { readonly type: 'exit'; readonly code: number };
