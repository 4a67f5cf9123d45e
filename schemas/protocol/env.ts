/**
 * Environments: Docker images built from Dockerfiles (tagged `mlw-env/<name>:<digest>`), conda
 * environments and venvs — those named in DAG files and the spec files found in the workspace.
 * Paths are workspace-relative, '/'-separated.
 */
import { z } from 'zod';
import { defineNotification, defineRequest } from '../rpc';

const Name = z.string().min(1).describe('An environment name, as `mlw/env/list` gives it.');

export const EnvironmentKind = z.enum(['docker', 'conda', 'venv', 'local']);
export type EnvironmentKind = z.output<typeof EnvironmentKind>;

/**
 * ready: built from its current spec. stale: built, but from an earlier spec. missing: never built.
 * building: a build is under way in this agent. unknown: its tool (engine, conda) could not be asked
 * (see `detail`). invalid: its definition has an error (see `detail`).
 */
export const EnvironmentState = z.enum(['ready', 'stale', 'missing', 'building', 'unknown', 'invalid']);
export type EnvironmentState = z.output<typeof EnvironmentState>;

export const EnvironmentInfo = z.object({
  name: z.string(),
  kind: EnvironmentKind,
  state: EnvironmentState,
  origin: z.enum(['dag', 'file']).describe('dag: named under `environments:` in a DAG file; file: a spec file found in the workspace.'),
  file: z.string().describe('The DAG file defining it, or the spec file found.'),
  line: z.number().int().nullable().describe('1-based line of its name in the DAG file.'),
  specFile: z.string().nullable().describe('Dockerfile, environment.yml or requirements.txt it is built from.'),
  digest: z.string().nullable().describe("The spec's digest (12 hex digits): what a build with nothing changed reuses."),
  image: z.string().nullable().describe('Docker: the tag for the current digest, or the image used as it is.'),
  imageId: z.string().nullable(),
  path: z.string().nullable().describe('venv folder or conda prefix (absolute).'),
  detail: z.string().nullable().describe('Why it is stale, unknown or invalid.'),
});
export type EnvironmentInfo = z.output<typeof EnvironmentInfo>;

export const ToolsInfo = z.object({
  docker: z.object({ where: z.string(), reachable: z.boolean(), error: z.string().nullable() }),
  conda: z.object({ path: z.string(), flavor: z.enum(['conda', 'mamba', 'micromamba']) }).nullable(),
});

export const EnvironmentList = z.object({ environments: z.array(EnvironmentInfo), tools: ToolsInfo });
export type EnvironmentList = z.output<typeof EnvironmentList>;

export const BuildResult = z.object({
  name: z.string(),
  kind: EnvironmentKind,
  digest: z.string().nullable(),
  image: z.string().nullable(),
  imageId: z.string().nullable(),
  path: z.string().nullable(),
  reused: z.boolean().describe('Nothing had changed: the existing image or environment was kept, no build ran.'),
  pruned: z.array(z.string()).describe('Superseded images or folders removed (with `prune`).'),
});
export type BuildResult = z.output<typeof BuildResult>;

export const RemoveResult = z.object({ name: z.string(), removed: z.array(z.string()) });
export type RemoveResult = z.output<typeof RemoveResult>;

export const ContainerizeResult = z.object({
  name: z.string(),
  dockerfile: z.string().describe('Where the Dockerfile was written (workspace-relative).'),
  text: z.string(),
});
export type ContainerizeResult = z.output<typeof ContainerizeResult>;

/** Sent by the extension: every environment with its state, and which tools were found. */
export const listEnvironments = defineRequest('mlw/env/list', {
  params: z.object({ names: z.array(Name).default([]).describe('Only these; none means all.') }).strict(),
  result: EnvironmentList,
});

/**
 * Sent by the extension: build an environment unless it is ready (`force` builds anyway). Its
 * output arrives as `mlw/env/buildLog` with the `token` given; cancelling the request stops the build.
 */
export const buildEnvironment = defineRequest('mlw/env/build', {
  params: z
    .object({
      name: Name,
      force: z.boolean().default(false),
      prune: z.boolean().default(false).describe('Then remove the images or folders of superseded digests.'),
      token: z.string().optional().describe('Echoed in `mlw/env/buildLog`.'),
    })
    .strict(),
  result: BuildResult,
});

/** Sent by the extension: remove what was built for an environment. */
export const removeEnvironment = defineRequest('mlw/env/remove', {
  params: z
    .object({
      name: Name,
      which: z.enum(['current', 'superseded', 'all']).default('current').describe('current: its current digest; superseded: earlier digests (prune); all: both.'),
    })
    .strict(),
  result: RemoveResult,
});

/** Sent by the extension: write a Dockerfile that reproduces a conda or venv environment on a base image. */
export const containerizeEnvironment = defineRequest('mlw/env/containerize', {
  params: z
    .object({
      name: Name,
      base: z.string().min(1).optional().describe('The base image (default: python:3.11-slim for venv, a micromamba image for conda).'),
      output: z.string().min(1).optional().describe('Where to write it (default: <name>.Dockerfile beside the spec file).'),
      force: z.boolean().default(false).describe('Overwrite an existing file.'),
    })
    .strict(),
  result: ContainerizeResult,
});

/** Sent by the agent: environments were built or removed (the view refreshes these). */
export const environmentsChanged = defineNotification('mlw/env/changed', {
  params: z.object({ names: z.array(z.string()) }),
});

/** Sent by the agent: lines of a build's output, as they come. */
export const environmentBuildLog = defineNotification('mlw/env/buildLog', {
  params: z.object({ token: z.string().nullable(), name: z.string(), lines: z.array(z.string()) }),
});
