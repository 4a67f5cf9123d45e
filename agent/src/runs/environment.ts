/**
 * What environment a run executes in: a Docker image, or a local process environment.
 *
 * SEAM: environments belong to the env service (agent/src/env/), which builds Docker images tagged
 * `mlw-env/<name>:<digest>` and creates venv and conda environments. Until its API is in place,
 * `StandaloneEnvironmentResolver` below covers what runs need on their own: `{ image }` used as it
 * is, `{ dockerfile }` built with the same content-addressed tag, `local: true` and no environment
 * on the host. Replace it with an adapter over the env service behind `EnvironmentResolver`.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, posix, resolve } from 'node:path';
import type Docker from 'dockerode';
import type { DockerExecutor } from './executors/docker';
import { LaunchError } from './errors';
import type { EnvironmentRef } from './plan';

export type ResolvedEnvironment =
  | { readonly kind: 'docker'; readonly image: string; readonly digest: string }
  | {
      readonly kind: 'process';
      /** Variables set on top of the agent's own environment (PATH of a venv, …). */
      readonly env: Readonly<Record<string, string>>;
      readonly digest: string | null;
    };

export interface EnvironmentResolver {
  /** `progress` receives build output for the run's log. */
  resolve(ref: EnvironmentRef, progress: (line: string) => void): Promise<ResolvedEnvironment>;
  /** Which executor the environment needs, known without building anything. */
  kindOf(ref: EnvironmentRef): 'docker' | 'local';
}

export class StandaloneEnvironmentResolver implements EnvironmentResolver {
  constructor(
    private readonly docker: () => Docker,
    private readonly executor: () => DockerExecutor,
  ) {}

  kindOf(ref: EnvironmentRef): 'docker' | 'local' {
    return ref.spec?.docker ? 'docker' : 'local';
  }

  async resolve(ref: EnvironmentRef, progress: (line: string) => void): Promise<ResolvedEnvironment> {
    const spec = ref.spec;
    if (!spec || spec.local) return { kind: 'process', env: {}, digest: null };
    if (spec.docker) {
      await this.executor().ping();
      if ('image' in spec.docker) {
        const id = await this.executor().imageId(spec.docker.image);
        if (!id) {
          throw new LaunchError(
            `environment ${ref.name}: image ${spec.docker.image} is not present on this Docker engine: pull or build it first`,
          );
        }
        return { kind: 'docker', image: spec.docker.image, digest: id };
      }
      return this.build(ref.name ?? 'unnamed', spec.docker, ref.baseDir, progress);
    }
    const kind = spec.venv ? 'venv' : 'conda';
    throw new LaunchError(
      `environment ${ref.name} is a ${kind} environment: running in it needs the env service (mlw env build ${ref.name}), which this build does not have yet`,
    );
  }

  private async build(
    name: string,
    build: { dockerfile: string; context: string; args?: Record<string, string | number | boolean> | undefined; target?: string | undefined },
    baseDir: string,
    progress: (line: string) => void,
  ): Promise<ResolvedEnvironment> {
    const context = resolve(baseDir, build.context);
    const dockerfilePath = resolve(baseDir, build.dockerfile);
    const files = await listFiles(context);
    const dockerfileInContext = posix.normalize(
      posix.relative(context.split('\\').join('/'), dockerfilePath.split('\\').join('/')),
    );
    if (dockerfileInContext.startsWith('..')) {
      throw new LaunchError(`environment ${name}: the Dockerfile ${build.dockerfile} must be inside its context ${build.context}`);
    }
    const digest = await contextDigest(context, files, build);
    const tag = `mlw-env/${name.toLowerCase()}:${digest.slice(0, 12)}`;
    const existing = await this.executor().imageId(tag);
    if (existing) return { kind: 'docker', image: tag, digest: existing };

    progress(`building environment ${name} as ${tag}`);
    const stream = await this.docker().buildImage(
      { context, src: files },
      {
        t: tag,
        dockerfile: dockerfileInContext,
        buildargs: Object.fromEntries(Object.entries(build.args ?? {}).map(([key, value]) => [key, String(value)])),
        ...(build.target ? { target: build.target } : {}),
        networkmode: 'none',
      },
    );
    await new Promise<void>((resolvePromise, reject) => {
      this.docker().modem.followProgress(
        stream,
        (error: Error | null) => (error ? reject(error) : resolvePromise()),
        (event: { stream?: string; error?: string }) => {
          if (event.stream) for (const line of event.stream.split('\n')) if (line.trim() !== '') progress(line);
          if (event.error) progress(event.error);
        },
      );
    }).catch((error: Error) => {
      throw new LaunchError(`environment ${name}: docker build failed: ${error.message}`);
    });
    const id = await this.executor().imageId(tag);
    if (!id) throw new LaunchError(`environment ${name}: docker build finished without producing ${tag}; see the run's log`);
    return { kind: 'docker', image: tag, digest: id };
  }
}

async function listFiles(root: string, prefix = ''): Promise<string[]> {
  const result: string[] = [];
  for (const entry of await readdir(join(root, prefix), { withFileTypes: true })) {
    const rel = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
    if (entry.isDirectory()) result.push(...(await listFiles(root, rel)));
    else if (entry.isFile()) result.push(rel);
  }
  return result.sort();
}

async function contextDigest(
  context: string,
  files: readonly string[],
  build: { dockerfile: string; args?: Record<string, unknown> | undefined; target?: string | undefined },
): Promise<string> {
  const hash = createHash('sha256');
  hash.update(JSON.stringify({ dockerfile: build.dockerfile, args: build.args ?? {}, target: build.target ?? null }));
  for (const file of files) {
    const info = await stat(join(context, file));
    hash.update(`\0${file}\0${info.mode & 0o111 ? 'x' : '-'}\0`);
    hash.update(await readFile(join(context, file)));
  }
  return hash.digest('hex');
}
