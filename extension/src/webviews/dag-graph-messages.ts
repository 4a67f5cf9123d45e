/**
 * The messages between the extension and the DAG graph webview, declared once and checked with zod
 * on both sides: the extension parses what the page posts, the page parses what the extension posts.
 */
import { z } from 'zod';
import { PipelineTaskStatus } from '../../../schemas/protocol/pipeline';

export const GraphNodeStatus = z.union([PipelineTaskStatus, z.literal('idle')]);

/** Extension → page. */
export const ToGraph = z.discriminatedUnion('type', [
  /** Every node's status (names not listed are idle) and the caption above the graph. */
  z.object({
    type: z.literal('statuses'),
    caption: z.string(),
    statuses: z.record(z.string(), GraphNodeStatus),
  }),
]);
export type ToGraph = z.output<typeof ToGraph>;

/** Page → extension. */
export const FromGraph = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready') }),
  /** A node was clicked (or Enter pressed on it): open that task instance's run. */
  z.object({ type: z.literal('open'), name: z.string().min(1).max(500) }),
]);
export type FromGraph = z.output<typeof FromGraph>;
