/** What the run supervisor needs of an executor (Docker container or local process). */
import type { RunResources } from '../../../../schemas/protocol/runs';

export type OutputStream = 'stdout' | 'stderr';

/** Receives the run's output as lines, in order per stream. */
export type LineSink = (stream: OutputStream, text: string) => void;

export interface ExitOutcome {
  /** The exit code, or null when the process ended by a signal without one (local) or vanished. */
  readonly exitCode: number | null;
  readonly oomKilled: boolean;
  /** The signal that ended a local process, if any. */
  readonly signal: string | null;
}

/** One execution in progress. */
export interface Execution {
  /** The container id or `pid:<n>`, recorded so another process can find it. */
  readonly handle: { readonly containerId: string | null; readonly pid: number | null };
  /** Settles when the process or container has ended and every output line was delivered. */
  readonly done: Promise<ExitOutcome>;
  /** SIGTERM, then a kill when it has not ended after `graceMs`. */
  cancel(graceMs: number): Promise<void>;
}

/** A bind mount into the container (host paths are absolute). */
export interface Mount {
  readonly source: string;
  readonly target: string;
  readonly readOnly: boolean;
}

export interface ContainerSpec {
  readonly runId: string;
  readonly image: string;
  readonly command: string;
  readonly workingDir: string;
  readonly env: Readonly<Record<string, string>>;
  readonly mounts: readonly Mount[];
  readonly resources: RunResources;
  readonly labels: Readonly<Record<string, string>>;
}

export interface ProcessSpec {
  readonly runId: string;
  readonly command: string;
  readonly cwd: string;
  /** The complete environment of the process. */
  readonly env: Readonly<Record<string, string>>;
}
