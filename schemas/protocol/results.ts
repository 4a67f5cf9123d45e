/**
 * Results: publishing finished runs to the team through the branch's git remote, and bringing the
 * team's runs in (the same operations as `mlw push` and `mlw pull`).
 */
import { z } from 'zod';
import { defineRequest } from '../rpc';
import { RunId } from './runs';

const RemoteName = z.string().min(1).describe('A git remote (default: the branch upstream, else origin).');

/** The runs' artifacts on the data remote of `.dvc/config`. */
export const ArtifactTransfer = z.object({
  remote: z.string().nullable().describe('The data remote; null when the artifacts stayed local.'),
  transferred: z.number().int(),
  skipped: z.number().int().describe('Objects the destination already had.'),
  bytes: z.number().int(),
  localOnly: z.string().nullable().describe('Why the artifacts stayed local and how to configure a data remote.'),
});

/** Sent by the extension ("Push results"): publish finished runs (default: every one not pushed yet). */
export const pushResults = defineRequest('mlw/results/push', {
  params: z.object({ ids: z.array(RunId).optional(), remote: RemoteName.optional() }).strict(),
  result: z.object({
    remote: z.string(),
    recorded: z.array(z.string()).describe('Runs whose record was written now.'),
    published: z.array(z.string()).describe('Runs the remote did not have before.'),
    artifacts: ArtifactTransfer.describe('Uploaded before any run ref was pushed.'),
  }),
});

/** Sent by the extension ("Pull team runs"): fetch teammates' runs; they are listed tagged `remote`. */
export const pullResults = defineRequest('mlw/results/pull', {
  params: z.object({ remote: RemoteName.optional() }).strict(),
  result: z.object({
    remote: z.string(),
    imported: z.array(z.string()),
    artifacts: ArtifactTransfer.extend({ failed: z.array(z.object({ md5: z.string(), error: z.string() })) }),
  }),
});
