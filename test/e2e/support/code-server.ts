/**
 * A real VS Code (code-server, installed by scripts/setup/code-server.sh) on a temp workspace, with
 * the .vsix under test installed into a fresh extensions dir. Started in its own process group so
 * `stop` takes down everything under it: the server, the extension host, the agent.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const CODE_SERVER_VERSION = '4.100.3';

/** Where scripts/setup/code-server.sh puts it (same rule, same override). */
export function codeServerBinary(): string {
  const cacheHome = process.env['XDG_CACHE_HOME'] ?? join(homedir(), '.cache');
  const dir = process.env['MLW_CODE_SERVER_DIR'] ?? join(cacheHome, 'mlw', `code-server-${CODE_SERVER_VERSION}`);
  const binary = join(dir, 'node_modules', '.bin', 'code-server');
  if (!existsSync(binary))
    throw new Error(`code-server is not installed at ${binary}; run scripts/setup/code-server.sh`);
  return binary;
}

export interface CodeServer {
  readonly url: string;
  /** Everything code-server printed, for failure messages. */
  readonly log: () => string;
  readonly stop: () => Promise<void>;
}

/** Settings that keep the first window quiet: no welcome page, tips, telemetry or update checks. */
const USER_SETTINGS = {
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'telemetry.telemetryLevel': 'off',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'update.mode': 'none',
};

export async function installExtension(
  binary: string,
  vsix: string,
  dirs: { extensions: string; userData: string },
): Promise<void> {
  mkdirSync(join(dirs.userData, 'User'), { recursive: true });
  writeFileSync(join(dirs.userData, 'User', 'settings.json'), JSON.stringify(USER_SETTINGS, null, 2));
  const { stdout } = await run(binary, [
    '--install-extension',
    vsix,
    '--extensions-dir',
    dirs.extensions,
    '--user-data-dir',
    dirs.userData,
  ]);
  if (!/successfully installed/i.test(stdout)) throw new Error(`installing ${vsix} failed:\n${stdout}`);
}

/** Starts code-server on a free port (port 0) and resolves once it says where it listens. */
export function startCodeServer(
  binary: string,
  dirs: { extensions: string; userData: string; config: string },
  workspace: string,
  options: { askForWorkspaceTrust?: boolean } = {},
): Promise<CodeServer> {
  const child = spawn(
    binary,
    [
      '--auth',
      'none',
      '--bind-addr',
      '127.0.0.1:0',
      '--disable-telemetry',
      '--disable-update-check',
      ...(options.askForWorkspaceTrust === true ? [] : ['--disable-workspace-trust']),
      '--extensions-dir',
      dirs.extensions,
      '--user-data-dir',
      dirs.userData,
      '--config',
      dirs.config,
      workspace,
    ],
    { detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  // If the test process ends without running its teardown, code-server (detached) must not outlive it.
  const killOnExit = (): void => {
    if (child.pid !== undefined) signalGroup(child.pid, 'SIGKILL');
  };
  process.once('exit', killOnExit);
  const stop = async (): Promise<void> => {
    process.removeListener('exit', killOnExit);
    await stopProcessGroup(child);
  };
  return new Promise<CodeServer>((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      const listening = /HTTP server listening on (http:\/\/127\.0\.0\.1:\d+)\//.exec(output);
      if (listening?.[1] !== undefined) resolve({ url: listening[1], log: () => output, stop });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('error', reject);
    child.once('exit', (code, signal) =>
      reject(new Error(`code-server exited (${code ?? signal}) before listening:\n${output}`)),
    );
  });
}

async function stopProcessGroup(child: ChildProcess): Promise<void> {
  if (child.pid === undefined) return;
  const exited =
    child.exitCode !== null || child.signalCode !== null
      ? Promise.resolve()
      : new Promise<void>((resolve) => child.once('exit', () => resolve()));
  signalGroup(child.pid, 'SIGTERM');
  await exited;
  // Whatever code-server left behind in its group (extension host, agent) goes too.
  signalGroup(child.pid, 'SIGKILL');
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}
