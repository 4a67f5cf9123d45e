/**
 * The environments service: what the workspace's environments are, whether each is built from its
 * current spec, and building, removing and containerizing them. Pure of any protocol: the RPC
 * handlers (rpc.ts), the CLI (cli/env.ts) and the runs service (runs/environment.ts) share it.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import type { EnvironmentSpec } from '../../../schemas/dag';
import type { BuildResult, ContainerizeResult, EnvironmentInfo, EnvironmentList, RemoveResult } from '../../../schemas/protocol/env';
import type { Logger } from '../context';
import { CondaEnvironments, condaNameIn, findCondaTool } from './conda';
import { DEFAULT_BASE, dockerfileFor } from './containerize';
import type { DockerBuildSpec } from './context';
import { discoverEnvironments, specFilesOf, type EnvDefinition } from './discovery';
import { DockerEnvironments, type ProgressSink } from './docker';
import { EngineClient, describeEngine } from './engine';
import { EngineUnreachableError, EnvError } from './errors';
import { HashCache } from './hash-cache';
import { loadEnvSettings, type EnvSettings } from './settings';
import { requirementFiles, VenvEnvironments } from './venv';

export interface EnvServiceOptions {
  readonly root: string;
  readonly log: Logger;
  /** The process environment (DOCKER_HOST, PATH, MLW_CONDA); default: this process's. */
  readonly env?: NodeJS.ProcessEnv;
  readonly settings?: EnvSettings;
}

export interface BuildOptions {
  readonly force?: boolean;
  readonly prune?: boolean;
  readonly progress?: ProgressSink;
  readonly signal?: AbortSignal;
}

type DockerBuildField = Extract<NonNullable<EnvironmentSpec['docker']>, { dockerfile: string }>;

export class EnvService {
  readonly docker: DockerEnvironments;
  readonly venvs: VenvEnvironments;
  private readonly env: NodeJS.ProcessEnv;
  private readonly settings: EnvSettings;
  private readonly building = new Set<string>();
  private hashCache: HashCache | undefined;
  private condaTool: CondaEnvironments | null | undefined;
  private condaProblem: string | undefined;

  constructor(private readonly options: EnvServiceOptions) {
    this.env = options.env ?? process.env;
    this.settings = options.settings ?? loadEnvSettings(this.env);
    this.docker = new DockerEnvironments(new EngineClient(this.env), () => this.hashes(), { buildNetwork: this.settings.buildNetwork });
    this.venvs = new VenvEnvironments(join(options.root, '.mlw', 'venvs'));
  }

  get root(): string {
    return this.options.root;
  }

  definitions(): Promise<EnvDefinition[]> {
    return discoverEnvironments(this.options.root);
  }

  async find(name: string): Promise<EnvDefinition> {
    const definitions = await this.definitions();
    const found = definitions.find((definition) => definition.name === name);
    if (found) return found;
    const names = definitions.map((definition) => definition.name).join(', ');
    throw new EnvError(`no environment named ${name} in ${this.options.root}${names ? ` (its environments: ${names})` : ' (it has none: no DAG environments, Dockerfiles, environment.yml or requirements.txt)'}`);
  }

  async list(names: readonly string[] = []): Promise<EnvironmentList> {
    let definitions = await this.definitions();
    if (names.length > 0) {
      for (const name of names) if (!definitions.some((definition) => definition.name === name)) await this.find(name);
      definitions = definitions.filter((definition) => names.includes(definition.name));
    }
    const docker = { where: describeEngine(this.env), reachable: true, error: null as string | null };
    const conda = this.conda();
    let condaPrefixes: Promise<string[]> | undefined;
    const environments: EnvironmentInfo[] = [];
    for (const definition of definitions) {
      const info = await this.describe(definition, {
        engineDown: () => docker.error,
        markEngineDown: (message) => {
          docker.reachable = false;
          docker.error = message;
        },
        condaPrefixes: () => (condaPrefixes ??= conda ? conda.listPrefixes() : Promise.resolve([])),
      });
      environments.push(this.building.has(definition.name) ? { ...info, state: 'building' } : info);
    }
    if (docker.error === null && !environments.some((info) => info.kind === 'docker')) {
      await this.docker.engine.ping().catch((error: Error) => {
        docker.reachable = false;
        docker.error = error.message;
      });
    }
    return { environments, tools: { docker, conda: conda ? { path: conda.tool.path, flavor: conda.tool.flavor } : null } };
  }

  async build(name: string, options: BuildOptions = {}): Promise<BuildResult> {
    const definition = await this.find(name);
    if (definition.problem || !definition.spec) throw new EnvError(definition.problem ?? `environment ${name} has no valid definition`);
    if (this.building.has(name)) throw new EnvError(`environment ${name} is already being built`);
    this.building.add(name);
    try {
      return await this.buildSpec(name, definition.spec, definition.baseDir, options);
    } finally {
      this.building.delete(name);
    }
  }

  /** Builds from a spec as a DAG file gives it (the runs service comes here with its own). */
  async buildSpec(name: string, spec: EnvironmentSpec, baseDir: string, options: BuildOptions = {}): Promise<BuildResult> {
    const base = { name, digest: null, image: null, imageId: null, path: null, reused: true, pruned: [] };
    if (spec.docker) {
      if ('image' in spec.docker) {
        const imageId = await this.docker.engine.imageId(spec.docker.image);
        if (!imageId) throw new EnvError(imageMissing(name, spec.docker.image));
        return { ...base, kind: 'docker', image: spec.docker.image, imageId };
      }
      const build = dockerBuildSpec(spec.docker, baseDir);
      const source = sourceLabel(baseDir, name);
      const result = await this.docker.build(name, build, source, options);
      const pruned = options.prune ? await this.docker.prune(name, build, source) : [];
      return { ...base, kind: 'docker', digest: result.digest, image: result.tag, imageId: result.imageId, reused: result.reused, pruned };
    }
    if (spec.venv) {
      const venv = { requirements: resolve(baseDir, spec.venv.requirements), python: spec.venv.python };
      const result = await this.venvs.build(name, venv, options);
      const pruned = options.prune ? this.venvs.prune(name, venv) : [];
      return { ...base, kind: 'venv', digest: result.digest, path: result.path, reused: result.reused, pruned };
    }
    if (spec.conda) {
      const conda = this.requireConda();
      const result = await conda.build(condaSpec(name, spec.conda, baseDir), options);
      return { ...base, kind: 'conda', digest: result.digest, path: result.prefix, reused: result.reused };
    }
    return { ...base, kind: 'local' };
  }

  async remove(name: string, which: 'current' | 'superseded' | 'all' = 'current'): Promise<RemoveResult> {
    const definition = await this.find(name);
    const spec = definition.spec;
    if (!spec) throw new EnvError(definition.problem ?? `environment ${name} has no valid definition`);
    if (spec.docker) {
      if ('image' in spec.docker) throw new EnvError(`environment ${name} uses the image ${spec.docker.image} as it is: mlw removes only images it built (use docker rmi)`);
      const build = dockerBuildSpec(spec.docker, definition.baseDir);
      const source = sourceLabel(definition.baseDir, name);
      const removed = which === 'superseded' ? await this.docker.prune(name, build, source) : await this.docker.remove(name, build, source, which === 'all');
      return { name, removed };
    }
    if (spec.venv) {
      const venv = { requirements: resolve(definition.baseDir, spec.venv.requirements), python: spec.venv.python };
      const removed = which === 'superseded' ? this.venvs.prune(name, venv) : this.venvs.remove(name, venv, which === 'all');
      return { name, removed: removed.map((path) => this.relative(path)) };
    }
    if (spec.conda) {
      const conda = this.requireConda();
      const target = condaSpec(name, spec.conda, definition.baseDir);
      if (which === 'superseded') return { name, removed: [] }; // a conda environment is updated in place
      const status = await conda.status(target);
      if (!status.prefix) return { name, removed: [] };
      await conda.remove(target.envName);
      return { name, removed: [status.prefix] };
    }
    throw new EnvError(`environment ${name} is the host itself (local: true): there is nothing to remove`);
  }

  async containerize(name: string, options: { base?: string | undefined; output?: string | undefined; force?: boolean } = {}): Promise<ContainerizeResult> {
    const definition = await this.find(name);
    const spec = definition.spec;
    if (!spec) throw new EnvError(definition.problem ?? `environment ${name} has no valid definition`);
    if (!spec.venv && !spec.conda) {
      throw new EnvError(`environment ${name} is a ${definition.kind} environment: only conda and venv environments can be containerized`);
    }
    const specFile = specFilesOf(definition)[0]!;
    const output = options.output ? resolve(this.options.root, options.output) : join(dirname(specFile), `${name}.Dockerfile`);
    const fromOutput = (path: string): string => {
      const rel = relative(dirname(output), path).split(sep).join('/');
      if (rel.startsWith('../')) throw new EnvError(`${path} is outside ${dirname(output)}, the folder of the Dockerfile (its build context): write the Dockerfile beside it`);
      return rel;
    };
    const text = spec.venv
      ? dockerfileFor(
          {
            kind: 'venv',
            requirements: fromOutput(specFile),
            includes: requirementFiles(specFile).slice(1).map(([file]) => fromOutput(file)),
            hasPackages: requirementFiles(specFile).some(([, content]) => content.split(/\r?\n/).some((line) => /^\s*[^#\s-]/.test(line))),
          },
          { base: options.base ?? DEFAULT_BASE.venv },
        )
      : dockerfileFor({ kind: 'conda', file: fromOutput(specFile) }, { base: options.base ?? DEFAULT_BASE.conda });
    if (existsSync(output) && !options.force) throw new EnvError(`${this.relative(output)} exists: pass --force to overwrite it`);
    mkdirSync(dirname(output), { recursive: true });
    const temp = `${output}.${process.pid}.tmp`;
    writeFileSync(temp, text);
    const { renameSync } = await import('node:fs');
    renameSync(temp, output);
    return { name, dockerfile: this.relative(output), text };
  }

  close(): void {
    this.docker.engine.close();
  }

  private async describe(
    definition: EnvDefinition,
    context: { engineDown: () => string | null; markEngineDown: (message: string) => void; condaPrefixes: () => Promise<string[]> },
  ): Promise<EnvironmentInfo> {
    const specFile = specFilesOf(definition)[0];
    const info: EnvironmentInfo = {
      name: definition.name,
      kind: definition.kind,
      state: 'unknown',
      origin: definition.origin,
      file: this.relative(definition.file),
      line: definition.line,
      specFile: specFile ? this.relative(specFile) : null,
      digest: null,
      image: null,
      imageId: null,
      path: null,
      detail: null,
    };
    const spec = definition.spec;
    if (!spec) return { ...info, state: 'invalid', detail: definition.problem };
    try {
      if (spec.docker) return await this.describeDocker(definition, spec.docker, info, context);
      if (spec.venv) {
        const status = this.venvs.status(definition.name, { requirements: resolve(definition.baseDir, spec.venv.requirements), python: spec.venv.python });
        const detail = status.state === 'stale' ? `${info.specFile} changed since the venv was built` : null;
        return { ...info, state: status.state, digest: status.digest, path: status.state === 'ready' ? status.path : (status.superseded.at(-1) ?? null), detail };
      }
      if (spec.conda) {
        const conda = this.conda();
        const target = condaSpec(definition.name, spec.conda, definition.baseDir);
        if (!conda) return { ...info, detail: this.condaProblem ?? 'no conda, mamba or micromamba on PATH (or set MLW_CONDA to one)' };
        const status = await conda.status(target, await context.condaPrefixes());
        return { ...info, state: status.state, digest: status.digest, path: status.prefix, detail: status.detail };
      }
      return { ...info, state: 'ready', detail: 'the host, as it is' };
    } catch (error) {
      if (!(error instanceof EnvError)) throw error;
      return { ...info, state: 'unknown', detail: error.message };
    }
  }

  private async describeDocker(
    definition: EnvDefinition,
    docker: NonNullable<EnvironmentSpec['docker']>,
    info: EnvironmentInfo,
    context: { engineDown: () => string | null; markEngineDown: (message: string) => void },
  ): Promise<EnvironmentInfo> {
    const down = context.engineDown();
    if ('image' in docker) {
      if (down) return { ...info, image: docker.image, detail: down };
      try {
        const imageId = (await this.docker.engine.imageId(docker.image)) ?? null;
        return { ...info, state: imageId ? 'ready' : 'missing', image: docker.image, imageId, detail: imageId ? null : imageMissing(definition.name, docker.image) };
      } catch (error) {
        if (error instanceof EngineUnreachableError) context.markEngineDown(error.message);
        throw error;
      }
    }
    const build = dockerBuildSpec(docker, definition.baseDir);
    const plan = this.docker.plan(definition.name, build);
    const planned = { ...info, digest: plan.digest, image: plan.tag };
    if (down) return { ...planned, detail: down };
    try {
      const status = await this.docker.status(definition.name, build, sourceLabel(definition.baseDir, definition.name));
      const detail = status.state === 'stale' ? `the Dockerfile or its context changed since ${(status.superseded[0]?.RepoTags ?? [])[0] ?? 'the last build'} was built` : null;
      return { ...planned, state: status.state, imageId: status.imageId, detail };
    } catch (error) {
      if (!(error instanceof EngineUnreachableError)) throw error;
      context.markEngineDown(error.message);
      return { ...planned, detail: error.message };
    }
  }

  private hashes(): HashCache {
    this.hashCache ??= HashCache.load(join(this.options.root, '.mlw', 'env-hashes.json'));
    return this.hashCache;
  }

  private conda(): CondaEnvironments | null {
    if (this.condaTool === undefined) {
      let tool: ReturnType<typeof findCondaTool>;
      try {
        tool = findCondaTool(this.settings.condaPath, this.env);
      } catch (error) {
        if (!(error instanceof EnvError)) throw error;
        this.condaProblem = error.message; // a bad MLW_CONDA: said for each conda environment, not a failed listing
      }
      this.condaTool = tool ? new CondaEnvironments(tool, join(this.options.root, '.mlw', 'conda-envs.json')) : null;
    }
    return this.condaTool;
  }

  private requireConda(): CondaEnvironments {
    const conda = this.conda();
    if (!conda) throw new EnvError(this.condaProblem ?? 'no conda, mamba or micromamba on PATH: install one, or set MLW_CONDA to its path');
    return conda;
  }

  private relative(path: string): string {
    const rel = relative(this.options.root, path).split(sep).join('/');
    return rel.startsWith('../') ? path : rel;
  }
}

export function dockerBuildSpec(docker: DockerBuildField, baseDir: string): DockerBuildSpec {
  return {
    dockerfile: resolve(baseDir, docker.dockerfile),
    context: resolve(baseDir, docker.context),
    args: Object.fromEntries(Object.entries(docker.args ?? {}).map(([key, value]) => [key, String(value)])),
    target: docker.target,
  };
}

/** What identifies an environment across builds (image label): its folder and name. */
export function sourceLabel(baseDir: string, name: string): string {
  return `${baseDir}#${name}`;
}

function condaSpec(name: string, conda: NonNullable<EnvironmentSpec['conda']>, baseDir: string): { file: string; envName: string } {
  const file = resolve(baseDir, typeof conda === 'string' ? conda : conda.file);
  const envName = (typeof conda === 'string' ? undefined : conda.name) ?? condaNameIn(file) ?? name;
  return { file, envName };
}

function imageMissing(name: string, image: string): string {
  return `environment ${name}: the image ${image} is not on this Docker engine; mlw never pulls: run \`docker pull ${image}\` or build it`;
}
