/**
 * The one protocol module: every mlw/* request and notification, declared once with zod params and
 * result, imported by the agent and the extension. Each service keeps its declarations in
 * schemas/protocol/<service>.ts; this file gathers them so a test can check every request has a handler.
 */
import * as agent from './protocol/agent';
import * as dag from './protocol/dag';
import * as data from './protocol/data';
import * as env from './protocol/env';
import * as git from './protocol/git';
import * as pipeline from './protocol/pipeline';
import * as results from './protocol/results';
import * as runs from './protocol/runs';

export * from './protocol/agent';
export * from './protocol/dag';
export * from './protocol/data';
export * from './protocol/env';
export * from './protocol/git';
export * from './protocol/pipeline';
export * from './protocol/results';
export * from './protocol/runs';

export const protocolModules = { agent, dag, data, env, git, pipeline, results, runs } as const;
