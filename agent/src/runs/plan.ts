/** What launching resolves a request into: everything the supervisor needs to execute one run. */
import type { EnvironmentSpec } from '../../../schemas/dag';
import type { RunResources } from '../../../schemas/protocol/runs';

/** A named environment as the DAG file defines it; `spec` null means the host as it is. */
export interface EnvironmentRef {
  readonly name: string | null;
  readonly spec: EnvironmentSpec | null;
  /** The folder the environment's paths (Dockerfile, requirements) are relative to. */
  readonly baseDir: string;
}

/** What was asked for, kept with the run so it can be run again. */
export type LaunchRequest =
  | {
      readonly kind: 'task';
      /** Relative to the workspace root, with forward slashes. */
      readonly dagFile: string;
      readonly task: string;
      readonly params: Readonly<Record<string, string>>;
      readonly priority: number;
    }
  | {
      readonly kind: 'command';
      readonly command: string;
      readonly environment: string | null;
      /** The folder the command runs in, relative to the workspace root. */
      readonly workdir: string;
      readonly params: Readonly<Record<string, string>>;
      readonly priority: number;
    };

export interface LaunchPlan {
  readonly request: LaunchRequest;
  readonly name: string;
  readonly task: string | null;
  readonly dagFile: string | null;
  readonly dagRunId: string | null;
  /** The command line, params and matrix values substituted. */
  readonly command: string;
  /** Absolute path of the workspace folder (where `.mlw/` lives). */
  readonly workspaceRoot: string;
  /** The run's working folder relative to the workspace root ('' for the root), forward slashes. */
  readonly workdir: string;
  readonly environment: EnvironmentRef;
  readonly params: Readonly<Record<string, string>>;
  /** The task's own environment variables. */
  readonly env: Readonly<Record<string, string>>;
  /** Relative to the working folder; a trailing `/` marks a folder. */
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly metricsFiles: readonly string[];
  readonly resources: RunResources;
  readonly priority: number;
  readonly timeoutMs: number | null;
}
