/**
 * The git the datasets service needs (log and file contents of pointer files), through execa with
 * an argument array: every revision and path goes after `--end-of-options`/`--`, so none can
 * become a flag, and config that would run a program (fsmonitor, pager, textconv) is switched off.
 */
import type * as Execa from 'execa';
import { realpath } from 'node:fs/promises';
import { basename, dirname, join, relative, sep } from 'node:path';
import { UserError } from '../errors';

let execaModule: Promise<typeof Execa> | undefined;
function loadExeca(): Promise<typeof Execa> {
  // execa is ESM-only; a dynamic import loads it from the CommonJS bundle.
  execaModule ??= import('execa');
  return execaModule;
}

const SAFE_CONFIG = ['-c', 'core.fsmonitor=false', '-c', 'core.pager=cat', '-c', 'core.hooksPath=/dev/null', '-c', 'protocol.allow=never'];

export async function git(cwd: string, args: readonly string[], input?: string): Promise<string> {
  const { execa } = await loadExeca();
  const result = await execa('git', [...SAFE_CONFIG, ...args], {
    cwd,
    reject: false,
    stripFinalNewline: false,
    ...(input === undefined ? { stdin: 'ignore' as const } : { input }),
    env: { GIT_TERMINAL_PROMPT: '0', GIT_OPTIONAL_LOCKS: '0' },
  });
  if (result.failed || result.exitCode !== 0) {
    const message = String(result.stderr ?? '').trim() || (result.cause instanceof Error ? result.cause.message : `exit ${result.exitCode}`);
    throw new UserError(`git ${args[0]} in ${cwd} failed: ${message}`);
  }
  return String(result.stdout);
}

/** A revision as the user typed it: refused if it could be read as an option or split a batch line. */
export function checkRev(rev: string): void {
  if (rev.length === 0 || rev.startsWith('-') || /[\s\0]/.test(rev)) throw new UserError(`${JSON.stringify(rev)} is not a git revision`);
}

/** The repository's top folder and the repository-relative path of `file` ('/'-separated). */
export async function gitPathOf(cwd: string, file: string): Promise<{ top: string; path: string }> {
  const top = await realpath((await git(cwd, ['rev-parse', '--show-toplevel'])).trim());
  const real = join(await realpath(dirname(file)), basename(file));
  return { top, path: relative(top, real).split(sep).join('/') };
}

/** The contents of `path` (repository-relative) at `rev`, or undefined when it does not exist there. */
export async function showAt(top: string, rev: string, path: string): Promise<string | undefined> {
  checkRev(rev);
  return (await showAtMany(top, [rev], path))[0];
}

/** Parses `git cat-file --batch` output: each object, or undefined for a "missing" line. */
export function parseBatch(output: Buffer): Array<string | undefined> {
  const objects: Array<string | undefined> = [];
  let offset = 0;
  while (offset < output.length) {
    const newline = output.indexOf(10, offset);
    if (newline < 0) break;
    const header = output.subarray(offset, newline).toString('utf8');
    offset = newline + 1;
    const parts = header.split(' ');
    if (parts.length === 3 && /^\d+$/.test(parts[2]!)) {
      const size = Number(parts[2]);
      objects.push(output.subarray(offset, offset + size).toString('utf8'));
      offset += size + 1;
    } else {
      objects.push(undefined);
    }
  }
  return objects;
}

/** Contents of `path` at many revisions in one git process. */
export async function showAtMany(top: string, revs: readonly string[], path: string): Promise<Array<string | undefined>> {
  if (revs.length === 0) return [];
  const { execa } = await loadExeca();
  const result = await execa('git', [...SAFE_CONFIG, 'cat-file', '--batch'], {
    cwd: top,
    input: revs.map((rev) => `${rev}:${path}\n`).join(''),
    reject: false,
    encoding: 'buffer',
    env: { GIT_TERMINAL_PROMPT: '0', GIT_OPTIONAL_LOCKS: '0' },
  });
  return parseBatch(Buffer.from(result.stdout as Uint8Array));
}
