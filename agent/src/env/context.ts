/**
 * A Docker build context as the engine will receive it: the files under the context folder that
 * `.dockerignore` leaves in (matched with @balena/dockerignore, the matcher dockerode applies when
 * it packs the context, so what is hashed is what is sent; a `.mlw` folder at its top is left out),
 * and the digest of a build: Dockerfile, every file's path, mode and content, build args and target.
 *
 * Synchronous file system calls on purpose: the walk is thousands of tiny stats whose promise
 * overhead would cost more than the calls (the up-to-date decision has a 50 ms budget for 2,000
 * files, bench/env.ts).
 */
import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, readlinkSync, type Stats } from 'node:fs';
import { join, relative, sep } from 'node:path';
import dockerignore from '@balena/dockerignore';
import { EnvError } from './errors';
import type { HashCache } from './hash-cache';

export interface DockerBuildSpec {
  /** Absolute path of the Dockerfile (inside the context). */
  readonly dockerfile: string;
  /** Absolute path of the context folder. */
  readonly context: string;
  readonly args: Readonly<Record<string, string>>;
  readonly target?: string | undefined;
}

export interface ContextSnapshot {
  /** Context-relative, '/'-separated, sorted: what the build sends. */
  readonly files: readonly string[];
  /** The Dockerfile's path inside the context, '/'-separated. */
  readonly dockerfile: string;
  /** sha256 hex of the Dockerfile, files, args and target. */
  readonly digest: string;
}

const DIGEST_VERSION = 'mlw-env-docker-1';
/** mlw's own state (runs, caches) when the context is the workspace root: never sent, never hashed (it changes as mlw works). */
const MLW_STATE_FOLDER = '.mlw';

export function snapshotContext(spec: DockerBuildSpec, cache: HashCache): ContextSnapshot {
  const dockerfile = relative(spec.context, spec.dockerfile).split(sep).join('/');
  if (dockerfile.startsWith('../') || dockerfile === '..' || dockerfile === '') {
    throw new EnvError(`the Dockerfile ${spec.dockerfile} must be inside its build context ${spec.context}`);
  }
  const rules = readIgnoreRules(spec.context);
  if (rules.ignores(dockerfile)) {
    throw new EnvError(`${join(spec.context, '.dockerignore')} excludes the Dockerfile ${dockerfile} itself: remove that pattern (the build could not read it)`);
  }
  const entries = walk(spec.context, rules);
  const hash = createHash('sha256').update(`${DIGEST_VERSION}\0${canonical({ dockerfile, args: spec.args, target: spec.target ?? null })}\n`);
  const seen = new Set<string>();
  for (const entry of entries) {
    const absolute = join(spec.context, entry.path);
    seen.add(absolute);
    const content = entry.link === undefined ? cache.hashOf(absolute, entry.stats) : `link:${entry.link}`;
    hash.update(`${entry.path}\0${entry.stats.mode & 0o111 ? 'x' : '-'}\0${content}\n`);
  }
  cache.retainUnder(spec.context + sep, seen);
  return { files: entries.map((entry) => entry.path), dockerfile, digest: hash.digest('hex') };
}

interface ContextEntry {
  readonly path: string;
  readonly stats: Stats;
  /** A symbolic link's target (sent as a link, not followed). */
  readonly link?: string;
}

interface IgnoreRules {
  ignores(path: string): boolean;
  /** Whether a `!pattern` could re-include something under an ignored folder. */
  readonly hasExceptions: boolean;
}

function readIgnoreRules(context: string): IgnoreRules {
  let text: string;
  try {
    text = readFileSync(join(context, '.dockerignore'), 'utf8');
  } catch {
    return { ignores: () => false, hasExceptions: false };
  }
  const matcher = dockerignore({ ignorecase: false }).add(text);
  const hasExceptions = text.split(/\r?\n/).some((line) => line.trim().startsWith('!'));
  return { ignores: (path) => matcher.ignores(path), hasExceptions };
}

function walk(context: string, rules: IgnoreRules): ContextEntry[] {
  const found: ContextEntry[] = [];
  const pending: string[] = [''];
  while (pending.length > 0) {
    const folder = pending.pop()!;
    for (const entry of readdirSync(join(context, folder), { withFileTypes: true })) {
      if (folder === '' && entry.name === MLW_STATE_FOLDER) continue;
      const path = folder === '' ? entry.name : `${folder}/${entry.name}`;
      const ignored = rules.ignores(path);
      if (entry.isDirectory()) {
        // An ignored folder is still entered when an exception might bring back something inside it.
        if (!ignored || rules.hasExceptions) pending.push(path);
        continue;
      }
      if (ignored) continue;
      const absolute = join(context, path);
      const stats = lstatSync(absolute);
      if (stats.isSymbolicLink()) found.push({ path, stats, link: readlinkSync(absolute) });
      else if (stats.isFile()) found.push({ path, stats });
    }
  }
  return found.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** JSON with sorted keys, so equal specs always hash alike. */
export function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, v]) => `${JSON.stringify(key)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
