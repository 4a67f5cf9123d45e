/**
 * The one way the git service runs git: an argument array (never a shell), a scrubbed environment,
 * and `-c` overrides that keep a repository's own config from running code.
 *
 * Why execa and not simple-git: every safety property here lives in the exact argv and env we pass
 * (`-c` overrides, `--end-of-options`, a scrubbed environment with `extendEnv: false`) and in git's raw
 * stderr, which sync.ts classifies into typed errors; we parse our own NUL-separated `--format`
 * output. simple-git's value is its output parsers and task queue, which we would not use, and its
 * option block-list would sit between us and argv; execa is a thin, typed spawn with `reject: false`
 * results and line streaming (push/fetch progress) — and the runs service already uses it.
 *
 * Two profiles:
 * - `read` (listing, status, rev-parse — anything the agent runs on its own when a folder opens):
 *   no hooks, no fsmonitor, no ssh or other transport, no clean/smudge/textconv drivers, no system
 *   config, no pager, no prompts, no optional locks. Nothing in `.git/config` can run a program.
 * - `write` (what the user asked for: checkout, merge, fetch, push…): git behaves as it would in
 *   the user's terminal (their hooks, credentials and ssh settings), except fsmonitor (never needed)
 *   and prompts (there is no terminal: a missing credential is an error, not a hang).
 */
import type * as Execa from 'execa';
import { gitSpawner } from './spawner';

type ExecaModule = typeof Execa;

// execa is ESM-only; a dynamic import loads it from the CommonJS bundle.
let execaModule: Promise<ExecaModule> | undefined;
function loadExeca(): Promise<ExecaModule> {
  execaModule ??= import('execa');
  return execaModule;
}

export type GitProfile = 'read' | 'write';

export interface GitRunOptions {
  readonly profile: GitProfile;
  /** Exit codes that are answers rather than failures (e.g. 1 from `symbolic-ref -q`). */
  readonly okCodes?: readonly number[];
  readonly input?: string;
  /** Called with each stderr line (CR or LF terminated) as git writes it: progress. */
  readonly onStderrLine?: (line: string) => void;
  /** Extra `-c key=value` pairs for this call only (read profile: filter overrides). */
  readonly config?: readonly string[];
}

export interface GitOutput {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** A git command that exited with a code its caller did not expect; stderr is kept for classifying. */
export class GitCommandError extends Error {
  constructor(
    readonly args: readonly string[],
    readonly exitCode: number,
    readonly stderr: string,
    readonly stdout: string,
  ) {
    super(`git ${args.join(' ')} failed (exit ${exitCode}): ${stderr.trim() || stdout.trim()}`);
    this.name = 'GitCommandError';
  }
}

/** Config that applies to every call: fsmonitor is a program git would run on its own. */
const ALWAYS = ['core.fsmonitor=false', 'core.pager=cat', 'color.ui=false', 'advice.detachedHead=false'];

/**
 * Read profile: every config key git (2.39) would execute during for-each-ref, rev-parse, status,
 * log, stash list and check-ref-format, pointed at nothing. `protocol.allow=never` stops any
 * transport (so sshCommand/uploadpack/proxy can never matter), hooksPath at /dev/null means no hook.
 */
const READ_ONLY = [
  'core.hooksPath=/dev/null',
  'core.sshCommand=false',
  'core.gitProxy=',
  'core.askPass=',
  'core.editor=false',
  'sequence.editor=false',
  'credential.helper=',
  'protocol.allow=never',
  'diff.external=',
  'core.untrackedCache=false',
  'gpg.program=false',
  'log.showSignature=false',
];

/** Environment variables that would redirect git to another repository or make it run something. */
const SCRUBBED_ENV = /^(GIT_(?!AUTHOR_|COMMITTER_|TRACE)|SSH_ASKPASS$|EDITOR$|VISUAL$|PAGER$)/;

function environment(profile: GitProfile): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value === undefined) continue;
    if (profile === 'read' && SCRUBBED_ENV.test(key)) continue;
    if (profile === 'write' && /^GIT_(DIR|WORK_TREE|INDEX_FILE|COMMON_DIR|NAMESPACE|CONFIG_PARAMETERS|CONFIG_COUNT|CONFIG_KEY_\d+|CONFIG_VALUE_\d+)$/.test(key)) {
      continue;
    }
    env[key] = value;
  }
  env.GIT_TERMINAL_PROMPT = '0';
  env.GIT_OPTIONAL_LOCKS = profile === 'read' ? '0' : '1';
  env.LC_ALL = 'C';
  env.LANGUAGE = 'C';
  if (profile === 'read') {
    env.GIT_CONFIG_NOSYSTEM = '1';
    env.GIT_ATTR_NOSYSTEM = '1';
    env.GIT_NO_REPLACE_OBJECTS = '1';
  }
  return env;
}

function configArgs(profile: GitProfile, extra: readonly string[] = []): string[] {
  const pairs = profile === 'read' ? [...ALWAYS, ...READ_ONLY, ...extra] : [...ALWAYS, ...extra];
  return pairs.flatMap((pair) => ['-c', pair]);
}

/** The full argv git is started with (exported for tests and the benchmark's side-by-side peer). */
export function gitArgv(args: readonly string[], options: Pick<GitRunOptions, 'profile' | 'config'>): string[] {
  return [...configArgs(options.profile, options.config), ...args];
}

/** Runs git in `cwd`; resolves with its output, rejects with GitCommandError on an unexpected exit code. */
export async function runGit(cwd: string, args: readonly string[], options: GitRunOptions): Promise<GitOutput> {
  const helper = options.onStderrLine === undefined ? gitSpawner() : undefined;
  if (helper !== undefined) {
    const result = await helper.run({
      file: 'git',
      args: gitArgv(args, options),
      cwd,
      env: environment(options.profile),
      ...(options.input === undefined ? {} : { input: options.input }),
      maxBuffer: MAX_BUFFER,
    });
    return checked(args, options, result.exitCode, result.stdout, result.stderr, result.startError);
  }
  const { execa } = await loadExeca();
  const subprocess = execa('git', gitArgv(args, options), {
    cwd,
    env: environment(options.profile),
    extendEnv: false,
    reject: false,
    stripFinalNewline: false,
    windowsHide: true,
    ...(options.input === undefined ? { stdin: 'ignore' as const } : { input: options.input }),
    maxBuffer: MAX_BUFFER,
    // With a line callback we read stderr ourselves (progress ends lines with CR, which execa's
    // line transforms do not split on), so execa must not consume it too.
    buffer: { stdout: true, stderr: options.onStderrLine === undefined },
  });
  const streamed = options.onStderrLine ? collectLines(subprocess.stderr, options.onStderrLine) : undefined;
  const result = await subprocess;
  const stdout = typeof result.stdout === 'string' ? result.stdout : '';
  const stderr = streamed ? await streamed : typeof result.stderr === 'string' ? result.stderr : '';
  return checked(args, options, result.exitCode, stdout, stderr, result.message);
}

const MAX_BUFFER = 512 * 1024 * 1024;

function checked(args: readonly string[], options: GitRunOptions, exitCode: number | undefined, stdout: string, stderr: string, startError: string | undefined): GitOutput {
  if (exitCode === undefined) {
    throw new GitCommandError(args, -1, startError ?? 'git could not be started: is git installed and on PATH?', '');
  }
  if (exitCode !== 0 && !options.okCodes?.includes(exitCode)) {
    throw new GitCommandError(args, exitCode, stderr, stdout);
  }
  return { exitCode, stdout, stderr };
}

/** Calls `onLine` per CR/LF-terminated line and resolves with everything read. */
function collectLines(stream: NodeJS.ReadableStream | null, onLine: (line: string) => void): Promise<string> {
  return new Promise((resolve) => {
    if (!stream) return resolve('');
    let all = '';
    let pending = '';
    stream.on('data', (chunk: Buffer | string) => {
      const text = chunk.toString();
      all += text;
      pending += text;
      const parts = pending.split(/[\r\n]/);
      pending = parts.pop() ?? '';
      for (const part of parts) if (part.trim() !== '') onLine(part);
    });
    stream.on('close', () => {
      if (pending.trim() !== '') onLine(pending);
      resolve(all);
    });
  });
}
