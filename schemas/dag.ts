/**
 * The pipeline DAG file format (`*.dag.yaml`, `dag.yaml`): the single source of truth.
 * Every field carries a description: they are the editor's hover docs, the JSON Schema's
 * descriptions and the reference in docs/dag-format.md (a test keeps that doc in step).
 */
import { z } from 'zod';

export const DAG_SCHEMA_ID = 'https://mlops-workbench.dev/schemas/dag.schema.json';

/** Task and environment names: usable in `needs`, in `@` matrix suffixes and on the command line. */
export const NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_-]*$/;
export const DURATION_PATTERN = /^\d+(\.\d+)?(ms|s|m|h|d)$/;
export const MEMORY_PATTERN = /^\d+(\.\d+)?[kmgtKMGT]?[bB]?$/;

const Scalar = z.union([z.string(), z.number(), z.boolean()]);

const Duration = z
  .string()
  .regex(DURATION_PATTERN, 'a duration such as 90s, 30m or 2h')
  .describe('A duration: a number followed by ms, s, m, h or d (e.g. `30m`).');

export const Resources = z
  .strictObject({
    cpus: z.number().positive().optional().describe('CPU cores the task may use (fractions allowed, e.g. `0.5`).'),
    memory: z
      .string()
      .regex(MEMORY_PATTERN, 'a size such as 512m or 4g')
      .optional()
      .describe('Memory limit, e.g. `512m` or `4g`. A task that exceeds it is killed and recorded as OOM-killed.'),
    gpus: z
      .union([z.number().int().min(0), z.literal('all')])
      .optional()
      .describe('GPUs to give the task: a count, or `all`.'),
  })
  .describe('Resource limits applied to the task (Docker limits for container environments).');

export const DockerBuild = z
  .strictObject({
    dockerfile: z.string().min(1).describe('Path of the Dockerfile, relative to the DAG file.'),
    context: z.string().min(1).default('.').describe('Build context directory, relative to the DAG file. Default `.`.'),
    args: z.record(z.string(), Scalar).optional().describe('Build arguments (`--build-arg`).'),
    target: z.string().optional().describe('Build stage to stop at (`--target`).'),
  })
  .describe('Build the image from a Dockerfile; the image is tagged by a digest of the Dockerfile, context and args.');

export const DockerImage = z
  .strictObject({
    image: z.string().min(1).describe('An existing image reference, e.g. `python:3.11-slim`.'),
  })
  .describe('Use an existing image as it is.');

export const Environment = z
  .strictObject({
    description: z.string().optional().describe('What this environment is for.'),
    docker: z
      .union([DockerBuild, DockerImage])
      .optional()
      .describe('A Docker environment: `{ dockerfile, context }` to build, or `{ image }` to use as is.'),
    conda: z
      .union([
        z.string().min(1),
        z.strictObject({
          file: z.string().min(1).describe('Path of the conda `environment.yml`.'),
          name: z.string().optional().describe('Name of the conda environment to create.'),
        }),
      ])
      .optional()
      .describe('A conda/mamba/micromamba environment from an `environment.yml` (a path, or `{ file, name }`).'),
    venv: z
      .strictObject({
        requirements: z.string().min(1).describe('Path of the `requirements.txt`.'),
        python: z.string().default('python3').describe('The interpreter to create the venv with. Default `python3`.'),
      })
      .optional()
      .describe('A Python venv created from a `requirements.txt`.'),
    local: z
      .literal(true)
      .optional()
      .describe('Run on the host as it is, with no isolation (`local: true`).'),
  })
  .describe('A named environment that tasks run in: exactly one of `docker`, `conda`, `venv` or `local`.');

export const ENVIRONMENT_KINDS = ['docker', 'conda', 'venv', 'local'] as const;

const PathList = z.array(z.string().min(1));

export const Task = z
  .strictObject({
    description: z.string().optional().describe('What the task does; shown in hovers and the Pipelines view.'),
    run: z
      .string()
      .min(1)
      .describe(
        'The command to run (a shell command line). `${params.NAME}` and `${matrix.NAME}` are substituted before it runs.',
      ),
    needs: z
      .union([z.string(), z.array(z.string())])
      .optional()
      .describe(
        'Tasks that must finish successfully before this one starts. Naming a matrix task (`train`) means all of its expansions (`train@rf`, `train@gb`).',
      ),
    environment: z
      .string()
      .optional()
      .describe('The name of the environment (under `environments:`) the task runs in. Defaults to `defaults.environment`.'),
    inputs: PathList.optional().describe(
      'Files and directories the task reads. Their content keys the cache; an input another task writes makes that task a dependency.',
    ),
    outputs: PathList.optional().describe(
      'Files and directories the task writes (a trailing `/` marks a directory). They are restored from the cache when nothing changed.',
    ),
    metrics: z
      .union([z.string().min(1), PathList])
      .optional()
      .describe('JSON files of metrics the task writes; read when it ends and recorded with its run.'),
    matrix: z
      .record(z.string().regex(NAME_PATTERN, 'a matrix axis name (letters, digits, _ or -)'), z.array(Scalar).min(1))
      .optional()
      .describe(
        'Run the task once per combination of values: `{ model: [rf, gb] }` expands to `train@rf` and `train@gb`; use `${matrix.model}` in the command and paths.',
      ),
    env: z
      .record(z.string(), Scalar)
      .optional()
      .describe('Environment variables set for the task.'),
    cache: z
      .boolean()
      .optional()
      .describe('Whether the task may be skipped when its command, inputs, params and environment are unchanged. Default `true`.'),
    retries: z
      .number()
      .int()
      .min(0)
      .max(100)
      .optional()
      .describe('How many times to retry the task after a failure (with exponential backoff).'),
    timeout: Duration.optional().describe('Kill the task when it runs longer than this, e.g. `30m`.'),
    resources: Resources.optional(),
    priority: z.number().int().optional().describe('Higher runs first when tasks wait for a free slot. Default 0.'),
  })
  .describe('A task: one command run in one environment, with declared inputs and outputs.');

export const Defaults = z
  .strictObject({
    environment: z.string().optional().describe('The environment of every task that names none.'),
    retries: z.number().int().min(0).max(100).optional().describe('Default retries for every task.'),
    timeout: Duration.optional().describe('Default timeout for every task.'),
    resources: Resources.optional(),
    cache: z.boolean().optional().describe('Default cache setting for every task.'),
  })
  .describe('Settings applied to every task unless the task overrides them.');

export const Dag = z
  .strictObject({
    version: z.literal(1).describe('The format version. Always `1`.'),
    name: z
      .string()
      .min(1)
      .optional()
      .describe('The pipeline name, shown in the Pipelines view and on its runs. Defaults to the file name.'),
    description: z.string().optional().describe('What the pipeline does.'),
    params: z
      .record(z.string().regex(NAME_PATTERN, 'a param name (letters, digits, _ or -)'), z.union([Scalar, z.array(Scalar)]))
      .optional()
      .describe('Named parameters, referenced as `${params.NAME}`; overridable per run with `mlw run -p NAME=VALUE`.'),
    environments: z
      .record(z.string().regex(NAME_PATTERN, 'an environment name (letters, digits, _ or -)'), Environment)
      .optional()
      .describe('Named environments that tasks run in.'),
    defaults: Defaults.optional(),
    tasks: z
      .record(z.string().regex(NAME_PATTERN, 'a task name (letters, digits, _ or -; no `@`)'), Task)
      .describe('The tasks of the pipeline, by name. Edges come from `needs` and from outputs one task writes that another reads.'),
  })
  .describe('An MLOps Workbench pipeline: tasks, the environments they run in, and the data that flows between them.');

export type DagFile = z.output<typeof Dag>;
export type TaskSpec = z.output<typeof Task>;
export type EnvironmentSpec = z.output<typeof Environment>;

/** The JSON Schema we publish (schemas/dag.schema.json), generated from the zod schema above. */
export function dagJsonSchema(): Record<string, unknown> {
  const generated = z.toJSONSchema(Dag, { target: 'draft-7', io: 'input', unrepresentable: 'any' }) as Record<
    string,
    unknown
  >;
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: DAG_SCHEMA_ID,
    title: 'MLOps Workbench pipeline (*.dag.yaml)',
    ...Object.fromEntries(Object.entries(generated).filter(([key]) => key !== '$schema')),
  };
}
