/**
 * A published run: what a teammate needs to see a run and reproduce it, and nothing that only
 * makes sense on the machine that ran it (container id, pid, supervising process).
 * Stored as `run.json` in a one-commit tree under `refs/mlw/runs/<run-id>`; `format` versions it.
 */
import { z } from 'zod';
import { MetricSeries, RunRecord } from '../../../schemas/protocol/runs';

export const PUBLISHED_FORMAT = 1;

export const PublishedRun = RunRecord.omit({ containerId: true, pid: true, owner: true }).extend({
  format: z.literal(PUBLISHED_FORMAT),
  metrics: z.array(MetricSeries),
  publishedBy: z.string().describe('git user.name <user.email> of whoever pushed it.'),
});
export type PublishedRun = z.output<typeof PublishedRun>;

/** The tag a run pulled from a teammate carries in the local store. */
export const REMOTE_TAG = 'remote';

export const RUNS_REF_PREFIX = 'refs/mlw/runs/';

export function runRef(id: string): string {
  return `${RUNS_REF_PREFIX}${id}`;
}

export function toPublished(record: RunRecord, metrics: readonly MetricSeries[], publishedBy: string): PublishedRun {
  const { containerId: _container, pid: _pid, owner: _owner, ...shared } = record;
  return { ...shared, format: PUBLISHED_FORMAT, metrics: [...metrics], publishedBy };
}
