/**
 * Runs a command in a container on the local Docker Engine. The order matters: create, attach,
 * start, wait; the container is never auto-removed, so one that exits at once still has its exit
 * code and logs when we ask, and a restarted agent can find it by its `mlw.run` label.
 */
import type { Readable } from 'node:stream';
import type { RunResources } from '../../../../schemas/protocol/runs';
import { LaunchError } from '../errors';
import { LineSplitter } from '../lines';
import { type ContainerInfo, type DockerApi, DockerApiError, demultiplex } from './docker-api';
import { memoryBytes, nanoCpus } from './resources';
import type { ContainerSpec, Execution, ExitOutcome, LineSink, OutputStream } from './types';

export const RUN_LABEL = 'mlw.run';
export const WORKSPACE_LABEL = 'mlw.workspace';

export interface DockerSettings {
  /** The container network; `none` by default (training needs none, and some engines have no bridge). */
  readonly networkMode: string;
  /** Run tini as PID 1 so SIGTERM reaches the command and zombies are reaped. */
  readonly init: boolean;
  /** The user to run as (`uid:gid`); by default the host user on Linux so outputs stay the user's. */
  readonly user: string | undefined;
}

export function defaultDockerSettings(): DockerSettings {
  const hostUser =
    process.platform === 'linux' && typeof process.getuid === 'function' && process.getuid() !== 0
      ? `${process.getuid()}:${process.getgid!()}`
      : undefined;
  return { networkMode: 'none', init: true, user: hostUser };
}

/** A container found by its label (recovery). */
export interface LabeledContainer {
  readonly id: string;
  readonly runId: string;
  readonly running: boolean;
}

export class DockerExecutor {
  constructor(
    private readonly api: DockerApi,
    private readonly settings: DockerSettings,
  ) {}

  /** Fails with a message that says what to do when the engine cannot be reached. */
  async ping(): Promise<void> {
    try {
      await this.api.ping();
    } catch (error) {
      throw new LaunchError(`${(error as Error).message}: start Docker, or set DOCKER_HOST to where it listens`);
    }
  }

  /** The image's id (its digest of content), or undefined when it is not present locally. */
  imageId(image: string): Promise<string | undefined> {
    return this.api.imageId(image);
  }

  /**
   * `created` runs after the container exists and before it starts, so its id is on record before
   * any output appears (a supervisor killed after the first line can still be re-attached by id).
   */
  async start(spec: ContainerSpec, sink: LineSink, created?: (containerId: string) => Promise<void>): Promise<Execution> {
    const id = await this.create(spec);
    try {
      await created?.(id);
      const stream = await this.api.attach(id);
      const delivered = this.deliver(stream, sink);
      await this.api.start(id);
      return this.execution(id, delivered);
    } catch (error) {
      await this.api.remove(id).catch(() => undefined);
      throw error;
    }
  }

  /**
   * Takes over a container a previous agent started: its output since `sinceMs` (the last line
   * already recorded) is delivered, then it is waited for like a fresh one.
   */
  async adopt(containerId: string, sinceMs: number, sink: LineSink): Promise<Execution> {
    const stream = await this.api.logs(containerId, Math.max(0, Math.floor(sinceMs / 1000) - 1));
    const delivered = this.deliver(stream, (kind, line) => {
      // With timestamps each line starts with the engine's RFC 3339 time; lines at or before the
      // last recorded one were recorded by the previous agent.
      const space = line.indexOf(' ');
      const at = Date.parse(line.slice(0, space));
      if (Number.isNaN(at) || at > sinceMs) sink(kind, line.slice(space + 1));
    });
    return this.execution(containerId, delivered);
  }

  /** Containers carrying the run label (for this workspace when given), running or not. */
  async labeledContainers(workspace?: string): Promise<LabeledContainer[]> {
    const labelFilters = workspace ? [RUN_LABEL, `${WORKSPACE_LABEL}=${workspace}`] : [RUN_LABEL];
    const containers = await this.api.listContainers(labelFilters);
    return containers.map((info) => ({ id: info.Id, runId: info.Labels[RUN_LABEL] ?? '', running: info.State === 'running' }));
  }

  /** Whether the container exists, and if so whether it still runs. */
  async state(containerId: string): Promise<'running' | 'exited' | 'missing'> {
    try {
      const info = await this.api.inspect(containerId);
      return info.State.Running ? 'running' : 'exited';
    } catch (error) {
      if (statusCode(error) === 404) return 'missing';
      throw error;
    }
  }

  /** SIGTERM, then SIGKILL after the grace period (what `docker stop -t` does). */
  async stop(containerId: string, graceMs: number): Promise<void> {
    try {
      await this.api.stop(containerId, Math.max(0, Math.ceil(graceMs / 1000)));
    } catch (error) {
      // 304: already stopped; 404: already gone. Either way it no longer runs.
      if (statusCode(error) !== 304 && statusCode(error) !== 404) throw error;
    }
  }

  async remove(containerId: string): Promise<void> {
    try {
      await this.api.remove(containerId);
    } catch (error) {
      if (statusCode(error) !== 404 && statusCode(error) !== 409) throw error;
    }
  }

  private async create(spec: ContainerSpec): Promise<string> {
    try {
      return await this.api.createContainer({
        Image: spec.image,
        Entrypoint: ['/bin/sh', '-c'],
        Cmd: [spec.command],
        WorkingDir: spec.workingDir,
        Env: Object.entries(spec.env).map(([name, value]) => `${name}=${value}`),
        Labels: { ...spec.labels, [RUN_LABEL]: spec.runId },
        AttachStdout: true,
        AttachStderr: true,
        Tty: false,
        OpenStdin: false,
        ...(this.settings.user ? { User: this.settings.user } : {}),
        HostConfig: {
          AutoRemove: false,
          Init: this.settings.init,
          NetworkMode: this.settings.networkMode,
          Mounts: spec.mounts.map((mount) => ({
            Type: 'bind',
            Source: mount.source,
            Target: mount.target,
            ReadOnly: mount.readOnly,
          })),
          // json-file keeps the whole log with timestamps, which re-attaching after a restart reads.
          LogConfig: { Type: 'json-file', Config: {} },
          ...resourceLimits(spec.resources),
        },
      });
    } catch (error) {
      const message = (error as Error).message;
      if (statusCode(error) === 404 && /image/i.test(message)) {
        throw new LaunchError(
          `image ${spec.image} is not present on this Docker engine: build it with \`mlw env build\` (or docker build/pull it)`,
        );
      }
      throw new LaunchError(`docker could not create the container for run ${spec.runId}: ${message}`);
    }
  }

  private async deliver(stream: Readable, sink: LineSink): Promise<void> {
    const splitters: Record<OutputStream, LineSplitter> = {
      stdout: new LineSplitter((line) => sink('stdout', line)),
      stderr: new LineSplitter((line) => sink('stderr', line)),
    };
    await demultiplex(stream, (kind, chunk) => splitters[kind].write(chunk));
    splitters.stdout.flush();
    splitters.stderr.flush();
  }

  /**
   * The engine learns of an OOM kill from an event of its own, which can be handled after the
   * container's exit (a run over its limit read OOMKilled false on a loaded CI machine). For a
   * container with a memory limit, the event log and the flag are asked once more.
   */
  private async oomReportedLate(info: ContainerInfo): Promise<boolean> {
    if (!info.HostConfig.Memory) return false;
    const since = Math.floor(Date.parse(info.Created) / 1000) - 1;
    if (await this.api.oomEventLogged(info.Id, since).catch(() => false)) return true;
    return (await this.api.inspect(info.Id).catch(() => undefined))?.State.OOMKilled ?? false;
  }

  private execution(id: string, delivered: Promise<void>): Execution {
    let stopped = false;
    const done = (async (): Promise<ExitOutcome> => {
      await this.api.wait(id);
      const info = await this.api.inspect(id);
      const oomKilled = info.State.OOMKilled || killedAtItsLimit(info, stopped) || (await this.oomReportedLate(info));
      await delivered;
      return { exitCode: info.State.ExitCode, oomKilled, signal: null };
    })();
    return {
      handle: { containerId: id, pid: null },
      done,
      cancel: (graceMs) => {
        stopped = true;
        return this.stop(id, graceMs);
      },
    };
  }
}

/**
 * A container with a memory limit whose main process died of SIGKILL (exit 137) that we did not
 * send: the kernel's OOM killer is what does that. On some kernels (cgroup v1 in a VM, seen on our
 * CI) the engine never hears of the OOM, neither flag nor event, so the exit itself has to say it.
 */
function killedAtItsLimit(info: ContainerInfo, stoppedByUs: boolean): boolean {
  return !stoppedByUs && Boolean(info.HostConfig.Memory) && info.State.ExitCode === 137;
}

interface ResourceLimits {
  Memory?: number;
  MemorySwap?: number;
  NanoCpus?: number;
  DeviceRequests?: { Driver: string; Count: number; Capabilities: string[][] }[];
}

function resourceLimits(resources: RunResources): ResourceLimits {
  const limits: ResourceLimits = {};
  if (resources.memory !== undefined) {
    limits.Memory = memoryBytes(resources.memory);
    // No swap beyond the limit: a run over its memory is OOM-killed, not slowed to a crawl.
    limits.MemorySwap = limits.Memory;
  }
  if (resources.cpus !== undefined) limits.NanoCpus = nanoCpus(resources.cpus);
  if (resources.gpus !== undefined && resources.gpus !== 0) {
    limits.DeviceRequests = [{ Driver: '', Count: resources.gpus === 'all' ? -1 : resources.gpus, Capabilities: [['gpu']] }];
  }
  return limits;
}

function statusCode(error: unknown): number | undefined {
  return error instanceof DockerApiError ? error.statusCode : undefined;
}
