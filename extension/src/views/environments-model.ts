/**
 * What the Environments view shows for the env service's answers, free of `vscode` so it is unit
 * tested: environments grouped by kind, each state's icon, description and tooltip, the context
 * value the menus match (which of build, rebuild, remove, open terminal apply), and how a terminal
 * is opened inside an environment.
 */
import { delimiter, join } from 'node:path';
import type { EnvironmentInfo, EnvironmentKind, EnvironmentState } from '../../../schemas/protocol/env';

export interface EnvironmentGroup {
  readonly kind: EnvironmentKind;
  readonly label: string;
  readonly environments: readonly EnvironmentInfo[];
}

const GROUP_LABELS: Record<EnvironmentKind, string> = {
  docker: 'Docker images',
  conda: 'conda',
  venv: 'venv',
  local: 'Local',
};

/** Docker, conda and venv always (an empty group says so); Local only when an environment is local. */
export function groupEnvironments(
  environments: readonly EnvironmentInfo[],
  building: ReadonlySet<string> = new Set(),
): EnvironmentGroup[] {
  const kinds: EnvironmentKind[] = ['docker', 'conda', 'venv', 'local'];
  return kinds
    .map((kind) => ({
      kind,
      label: GROUP_LABELS[kind],
      environments: environments
        .filter((info) => info.kind === kind)
        .map((info) => (building.has(info.name) ? { ...info, state: 'building' as const } : info))
        .sort((a, b) => a.name.localeCompare(b.name)),
    }))
    .filter((group) => group.kind !== 'local' || group.environments.length > 0);
}

/** The ThemeIcon id and colour id of a state. */
export function stateIcon(state: EnvironmentState): { id: string; color: string | undefined } {
  switch (state) {
    case 'ready':
      return { id: 'pass-filled', color: 'testing.iconPassed' };
    case 'stale':
      return { id: 'history', color: 'gitDecoration.modifiedResourceForeground' };
    case 'missing':
      return { id: 'circle-large-outline', color: undefined };
    case 'building':
      return { id: 'loading~spin', color: undefined };
    case 'unknown':
      return { id: 'question', color: 'problemsWarningIcon.foreground' };
    case 'invalid':
      return { id: 'error', color: 'problemsErrorIcon.foreground' };
  }
}

export function environmentDescription(info: EnvironmentInfo): string {
  const where = info.kind === 'docker' ? info.image : info.kind === 'local' ? null : info.digest;
  return where ? `${info.state} · ${where}` : info.state;
}

export function environmentTooltip(info: EnvironmentInfo, workspaceRoot?: string): string {
  const defined = info.line === null ? info.file : `${info.file}:${info.line}`;
  const lines = [`${info.name} (${info.kind}): ${info.state}`, `defined in ${defined}`];
  if (info.specFile && info.specFile !== info.file) lines.push(`built from ${info.specFile}`);
  if (info.digest) lines.push(`digest ${info.digest}`);
  if (info.image)
    lines.push(`image ${info.image}${info.imageId ? ` (${info.imageId.replace(/^sha256:/, '').slice(0, 12)})` : ''}`);
  if (info.path)
    lines.push(
      `path ${workspaceRoot && info.path.startsWith(workspaceRoot) ? info.path.slice(workspaceRoot.length + 1) : info.path}`,
    );
  if (info.detail) lines.push('', info.detail);
  return lines.join('\n');
}

/** An image used as it is (`docker: { image }`): nothing to build or remove. */
export function isImageAsIs(info: EnvironmentInfo): boolean {
  return info.kind === 'docker' && info.digest === null;
}

/**
 * `mlw.env` plus the actions that apply, as `;`-separated flags the menus test with `=~`:
 * build (missing or stale), rebuild (ready), remove (something built), terminal (ready), containerize.
 */
export function contextValue(info: EnvironmentInfo): string {
  const flags = ['mlw.env'];
  const buildable = info.kind !== 'local' && !isImageAsIs(info);
  if (buildable && (info.state === 'missing' || info.state === 'stale')) flags.push('build');
  if (buildable && info.state === 'ready') flags.push('rebuild');
  if (buildable && (info.state === 'ready' || info.state === 'stale')) flags.push('remove');
  if (info.state === 'ready' && info.kind !== 'local') flags.push('terminal');
  if (info.kind === 'venv' || info.kind === 'conda') flags.push('containerize');
  return `${flags.join(';')};`;
}

export interface TerminalSpec {
  readonly name: string;
  readonly shellPath?: string;
  readonly shellArgs?: readonly string[];
  readonly cwd: string;
  /** Variables set on top of the editor's environment. */
  readonly env?: Readonly<Record<string, string>>;
}

/**
 * How to open a terminal inside a ready environment: a shell in a container of the image (the
 * workspace mounted at /workspace), or the user's shell with the venv's or conda environment's PATH.
 */
export function terminalSpec(
  info: EnvironmentInfo,
  workspaceRoot: string,
  hostPath: string | undefined,
  platform: NodeJS.Platform = process.platform,
): TerminalSpec | undefined {
  const name = `MLOps: ${info.name}`;
  if (info.state !== 'ready') return undefined;
  if (info.kind === 'docker' && info.image) {
    return {
      name,
      shellPath: 'docker',
      shellArgs: ['run', '--rm', '-it', '-v', `${workspaceRoot}:/workspace`, '-w', '/workspace', info.image, 'sh'],
      cwd: workspaceRoot,
    };
  }
  if ((info.kind === 'venv' || info.kind === 'conda') && info.path) {
    const bin = platform === 'win32' ? join(info.path, 'Scripts') : join(info.path, 'bin');
    const prefix: Record<string, string> =
      info.kind === 'venv' ? { VIRTUAL_ENV: info.path } : { CONDA_PREFIX: info.path };
    return { name, cwd: workspaceRoot, env: { ...prefix, PATH: `${bin}${delimiter}${hostPath ?? ''}` } };
  }
  return undefined;
}
