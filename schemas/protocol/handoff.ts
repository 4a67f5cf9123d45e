/**
 * The hand-off protocol: how `mlw run` gives its command line to a resident agent of the workspace
 * instead of loading the whole agent itself (as the `docker` CLI hands `docker run` to dockerd).
 * One JSON message per line over the workspace's unix socket (agent/src/runs/handoff-socket.ts).
 *
 * The thin client (agent/src/cli/handoff-client.ts) imports only ./handoff-messages (no zod: loading
 * it would cost most of the start-up time the client exists to save) and checks the agent's
 * messages by hand. The agent validates everything a client sends with the schemas below.
 */
import { z } from 'zod';
import { HAND_OFF_VERSION } from './handoff-messages';

export { HAND_OFF_VERSION, type HandOffAgentMessage } from './handoff-messages';

/** Sent by the client, first: run this `mlw run …` command line as if started in `cwd`. */
export const HandOffRequest = z
  .object({
    type: z.literal('run'),
    version: z.literal(HAND_OFF_VERSION),
    cwd: z.string().startsWith('/'),
    argv: z.array(z.string()).max(1_000),
  })
  .strict();
export type HandOffRequest = z.infer<typeof HandOffRequest>;

/** Sent by the client when the user presses Ctrl-C: cancel the runs this command started. */
export const HandOffInterrupt = z.object({ type: z.literal('interrupt') }).strict();

export const HandOffClientMessage = z.discriminatedUnion('type', [HandOffRequest, HandOffInterrupt]);
export type HandOffClientMessage = z.infer<typeof HandOffClientMessage>;
