/**
 * Results: publishing finished runs to the team through the branch's git remote, and bringing the
 * team's runs in (the same operations as `mlw push` and `mlw pull`).
 */
import { z } from 'zod';
import { defineRequest } from '../rpc';
import { RunId } from './runs';

const RemoteName = z.string().min(1).describe('A git remote (default: the branch upstream, else origin).');

/** Sent by the extension ("Push results"): publish finished runs (default: every one not pushed yet). */
export const pushResults = defineRequest('mlw/results/push', {
  params: z.object({ ids: z.array(RunId).optional(), remote: RemoteName.optional() }).strict(),
  result: z.object({
    remote: z.string(),
    recorded: z.array(z.string()).describe('Runs whose record was written now.'),
    published: z.array(z.string()).describe('Runs the remote did not have before.'),
  }),
});

/** Sent by the extension ("Pull team runs"): fetch teammates' runs; they are listed tagged `remote`. */
export const pullResults = defineRequest('mlw/results/pull', {
  params: z.object({ remote: RemoteName.optional() }).strict(),
  result: z.object({ remote: z.string(), imported: z.array(z.string()) }),
});
