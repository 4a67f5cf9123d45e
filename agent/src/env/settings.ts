/**
 * The environments service's settings, from environment variables (the CLI, CI) or the editor's
 * `mlw.env.*` settings passed in: which conda binary to use, and the network of image builds.
 */
export interface EnvSettings {
  /** conda, mamba or micromamba binary (absolute path); unset: the first found on PATH. */
  readonly condaPath?: string | undefined;
  /** Docker network mode of image builds; unset: the engine's default. */
  readonly buildNetwork?: string | undefined;
}

export function loadEnvSettings(env: NodeJS.ProcessEnv = process.env, overrides: EnvSettings = {}): EnvSettings {
  return {
    condaPath: overrides.condaPath ?? (env.MLW_CONDA || undefined),
    buildNetwork: overrides.buildNetwork ?? (env.MLW_ENV_BUILD_NETWORK || undefined),
  };
}
