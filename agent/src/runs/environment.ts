/**
 * What environment a run executes in: a Docker image, or a local process environment.
 *
 * Environments belong to the env service (agent/src/env/): a `{ dockerfile }` environment is the
 * image tagged `mlw-env/<name>:<digest>` (reused without asking the engine to build when the
 * Dockerfile, context and build args are unchanged), `{ image }` is used as it is, a venv or conda
 * environment runs the command as a process with that environment's PATH, and `local: true` or no
 * environment runs on the host.
 */
import type { EnvService } from '../env/service';
import { condaProcessEnv } from '../env/conda';
import { venvProcessEnv } from '../env/venv';
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

/** Resolves a run's environment through the env service, building it only when its digest is new. */
export class EnvServiceResolver implements EnvironmentResolver {
  constructor(private readonly environments: () => EnvService) {}

  kindOf(ref: EnvironmentRef): 'docker' | 'local' {
    return ref.spec?.docker ? 'docker' : 'local';
  }

  async resolve(ref: EnvironmentRef, progress: (line: string) => void): Promise<ResolvedEnvironment> {
    const spec = ref.spec;
    if (!spec || spec.local) return { kind: 'process', env: {}, digest: null };
    const built = await this.environments().buildSpec(ref.name ?? 'unnamed', spec, ref.baseDir, { progress });
    if (built.kind === 'docker') return { kind: 'docker', image: built.image!, digest: built.imageId! };
    if (built.kind === 'venv') return { kind: 'process', env: venvProcessEnv(built.path!), digest: built.digest };
    if (built.kind === 'conda') return { kind: 'process', env: condaProcessEnv(built.path!), digest: built.digest };
    return { kind: 'process', env: {}, digest: null };
  }
}
