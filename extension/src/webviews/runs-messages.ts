/**
 * The messages between the extension and the runs webviews, declared once and checked with zod on
 * both sides: the extension parses what the page posts, the page parses what the extension posts.
 */
import { z } from 'zod';
import { MetricPoint, MetricSeries, RunComparison, RunStatus } from '../../../schemas/protocol/runs';

export const MetricsRun = z.object({ id: z.string(), name: z.string(), status: RunStatus });
export type MetricsRun = z.output<typeof MetricsRun>;

/** Extension → page. */
export const ToWebview = z.discriminatedUnion('type', [
  z.object({ type: z.literal('compare'), comparison: RunComparison }),
  z.object({ type: z.literal('metrics'), run: MetricsRun, series: z.array(MetricSeries) }),
  z.object({ type: z.literal('points'), points: z.array(MetricPoint) }),
  z.object({ type: z.literal('status'), status: RunStatus }),
  z.object({ type: z.literal('error'), message: z.string() }),
]);
export type ToWebview = z.output<typeof ToWebview>;

/** Page → extension. */
export const FromWebview = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready') }),
  z.object({ type: z.literal('openMetrics'), id: z.string().regex(/^[0-9a-f]{4,32}$/) }),
]);
export type FromWebview = z.output<typeof FromWebview>;
