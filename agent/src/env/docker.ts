/**
 * Docker environments: images built from a Dockerfile and tagged `mlw-env/<name>:<digest>`, where
 * the digest covers the Dockerfile, the context's files (after .dockerignore) and the build args.
 * The tag is the cache: when an image with it exists the build is skipped without asking the
 * engine to build. Images are labelled with the environment and the file defining it, so pruning
 * superseded digests never touches another workspace's environment of the same name.
 */
import type Docker from 'dockerode';
import { engineEndpoint } from '../runs/executors/docker-api';
import { snapshotContext, type ContextSnapshot, type DockerBuildSpec } from './context';
import type { EngineClient, ImageSummary } from './engine';
import { EnvError } from './errors';
import type { HashCache } from './hash-cache';

export const IMAGE_REPOSITORY_PREFIX = 'mlw-env/';
export const LABEL_NAME = 'mlw.env.name';
export const LABEL_DIGEST = 'mlw.env.digest';
/** The absolute path of the file defining the environment, `#` its name. */
export const LABEL_SOURCE = 'mlw.env.source';

export type ProgressSink = (line: string) => void;

export interface DockerPlan {
  readonly tag: string;
  readonly repository: string;
  readonly digest: string;
  readonly snapshot: ContextSnapshot;
}

export interface DockerStatus {
  readonly state: 'ready' | 'stale' | 'missing';
  readonly plan: DockerPlan;
  readonly imageId: string | null;
  /** Images of earlier digests of this environment. */
  readonly superseded: readonly ImageSummary[];
}

export interface DockerBuildResult {
  readonly tag: string;
  readonly digest: string;
  readonly imageId: string;
  /** True when the image already existed and no build was asked of the engine. */
  readonly reused: boolean;
}

export function repositoryFor(name: string): string {
  return `${IMAGE_REPOSITORY_PREFIX}${name.toLowerCase()}`;
}

export class DockerEnvironments {
  private dockerClient: Docker | undefined;

  constructor(
    readonly engine: EngineClient,
    private readonly hashes: () => HashCache,
    private readonly settings: { readonly buildNetwork?: string | undefined } = {},
  ) {}

  /** The tag an environment's image has for its current files: no engine call. */
  plan(name: string, spec: DockerBuildSpec): DockerPlan {
    const cache = this.hashes();
    const snapshot = snapshotContext(spec, cache);
    cache.save();
    const repository = repositoryFor(name);
    const digest = snapshot.digest.slice(0, 12);
    return { tag: `${repository}:${digest}`, repository, digest, snapshot };
  }

  async status(name: string, spec: DockerBuildSpec, source: string): Promise<DockerStatus> {
    const plan = this.plan(name, spec);
    const imageId = (await this.engine.imageId(plan.tag)) ?? null;
    const superseded = await this.supersededImages(plan, source);
    const state = imageId ? 'ready' : superseded.length > 0 ? 'stale' : 'missing';
    return { state, plan, imageId, superseded };
  }

  /** Builds the image unless one with the current digest exists (`force` builds anyway). */
  async build(
    name: string,
    spec: DockerBuildSpec,
    source: string,
    options: { progress?: ProgressSink; signal?: AbortSignal; force?: boolean } = {},
  ): Promise<DockerBuildResult> {
    const plan = this.plan(name, spec);
    const existing = await this.engine.imageId(plan.tag);
    if (existing && !options.force) return { tag: plan.tag, digest: plan.digest, imageId: existing, reused: true };
    const progress = options.progress ?? (() => undefined);
    progress(`building environment ${name} as ${plan.tag} (${plan.snapshot.files.length} files in the context)`);
    await this.runBuild(name, spec, plan, source, progress, options.signal);
    const imageId = await this.engine.imageId(plan.tag);
    if (!imageId) throw new EnvError(`environment ${name}: the build finished without producing ${plan.tag}; see its log`);
    return { tag: plan.tag, digest: plan.digest, imageId, reused: false };
  }

  /** Images of this environment whose digest is not the current one. */
  async supersededImages(plan: DockerPlan, source: string): Promise<ImageSummary[]> {
    const images = await this.engine.listImages({ reference: [`${plan.repository}:*`], label: [`${LABEL_SOURCE}=${source}`] });
    return images.filter((image) => !(image.RepoTags ?? []).includes(plan.tag));
  }

  /** Removes the tags of superseded digests; resolves to the tags removed. */
  async prune(name: string, spec: DockerBuildSpec, source: string): Promise<string[]> {
    const plan = this.plan(name, spec);
    return this.removeTags(await this.supersededImages(plan, source), plan.repository);
  }

  /** Removes the current digest's image (`all`: every digest of this environment). */
  async remove(name: string, spec: DockerBuildSpec, source: string, all: boolean): Promise<string[]> {
    const plan = this.plan(name, spec);
    const removed: string[] = [];
    if (await this.engine.imageId(plan.tag)) {
      await this.engine.removeImage(plan.tag);
      removed.push(plan.tag);
    }
    if (all) removed.push(...(await this.removeTags(await this.supersededImages(plan, source), plan.repository)));
    return removed;
  }

  private async removeTags(images: readonly ImageSummary[], repository: string): Promise<string[]> {
    const removed: string[] = [];
    for (const image of images) {
      for (const tag of image.RepoTags ?? []) {
        if (!tag.startsWith(`${repository}:`)) continue;
        await this.engine.removeImage(tag);
        removed.push(tag);
      }
    }
    return removed.sort();
  }

  private async runBuild(name: string, spec: DockerBuildSpec, plan: DockerPlan, source: string, progress: ProgressSink, signal: AbortSignal | undefined): Promise<void> {
    const docker = this.docker();
    const options = {
      t: plan.tag,
      dockerfile: plan.snapshot.dockerfile,
      buildargs: { ...spec.args },
      labels: { [LABEL_NAME]: name, [LABEL_DIGEST]: plan.digest, [LABEL_SOURCE]: source },
      rm: true,
      forcerm: true,
      ...(spec.target ? { target: spec.target } : {}),
      ...(this.settings.buildNetwork ? { networkmode: this.settings.buildNetwork } : {}),
      ...(signal ? { abortSignal: signal } : {}),
    };
    const failure = (message: string): EnvError =>
      signal?.aborted ? new EnvError(`environment ${name}: the build was cancelled`) : new EnvError(`environment ${name}: docker build failed: ${message}`);
    let stream: NodeJS.ReadableStream;
    try {
      stream = await docker.buildImage({ context: spec.context, src: [...plan.snapshot.files] }, options);
    } catch (error) {
      throw failure((error as Error).message);
    }
    let buildError: string | undefined;
    await new Promise<void>((resolve, reject) => {
      docker.modem.followProgress(
        stream,
        (error: Error | null) => (error ? reject(failure(error.message)) : resolve()),
        (event: BuildEvent) => {
          for (const line of linesOf(event)) progress(line);
          if (event.error) buildError ??= event.error;
        },
      );
      signal?.addEventListener('abort', () => reject(failure('cancelled')), { once: true });
    });
    if (buildError) throw failure(buildError.trim());
  }

  /** dockerode, loaded on the first build only (gRPC, protobuf and ssh2 at require time). */
  private docker(): Docker {
    if (!this.dockerClient) {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const DockerClient = require('dockerode') as typeof Docker;
      const endpoint = engineEndpoint(this.engine.env);
      this.dockerClient = endpoint.socketPath
        ? new DockerClient({ socketPath: endpoint.socketPath })
        : new DockerClient({ host: endpoint.host!, port: endpoint.port!, protocol: 'http' });
    }
    return this.dockerClient;
  }
}

interface BuildEvent {
  readonly stream?: string;
  readonly status?: string;
  readonly progress?: string;
  readonly id?: string;
  readonly error?: string;
}

function linesOf(event: BuildEvent): string[] {
  if (event.stream) return event.stream.split('\n').map((line) => line.trimEnd()).filter((line) => line !== '');
  if (event.error) return [`error: ${event.error.trim()}`];
  if (event.status) return [[event.id, event.status, event.progress].filter(Boolean).join(' ')];
  return [];
}
