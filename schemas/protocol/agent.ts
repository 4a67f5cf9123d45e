import { z } from 'zod';
import { defineNotification, defineRequest } from '../rpc';

/** Sent by the agent once it has initialized and can serve requests. Tests and the extension await it. */
export const agentReady = defineNotification('mlw/agent/ready', {
  params: z.object({ version: z.string(), pid: z.number().int(), workspaceRoots: z.array(z.string()) }),
});

/** Sent by the extension: the agent's version and the services it offers. */
export const agentInfo = defineRequest('mlw/agent/info', {
  params: z.object({}).strict(),
  result: z.object({ version: z.string(), pid: z.number().int(), services: z.array(z.string()) }),
});
