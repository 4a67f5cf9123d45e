/**
 * One end-to-end session: a temp workspace with the given files, the packaged .vsix installed into a
 * fresh code-server, and a Chromium page on its workbench. `close` tears down whatever was started,
 * in reverse order, even when set-up failed half-way.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Page } from 'playwright-core';
import { codeServerBinary, installExtension, startCodeServer, type CodeServer } from './code-server';
import { packageVsix, REPO_ROOT } from './vsix';
import { launchChromium, openWorkbench } from './workbench';

const STUCK_AFTER_MS = 2 * 60_000;
const HANG_AFTER_MS = 10 * 60_000;

export const ARTIFACTS = process.env['MLW_TEST_ARTIFACTS'] ?? join(REPO_ROOT, '.test-work', 'artifacts');

export interface EditorSession {
  readonly workspace: string;
  readonly vsix: string;
  readonly server: CodeServer;
  readonly page: Page;
  readonly screenshot: (name: string) => Promise<void>;
}

export class EditorSessions {
  private readonly cleanups: Array<() => Promise<void> | void> = [];
  private current: Partial<EditorSession> = {};

  async open(options: {
    files: Record<string, string>;
    askForWorkspaceTrust?: boolean;
    /** Runs on the workspace once its files are written, before the editor opens it (e.g. git init). */
    prepare?: (workspace: string) => Promise<void>;
  }): Promise<EditorSession> {
    const binary = codeServerBinary();
    const work = mkdtempSync(join(tmpdir(), 'mlw-e2e-'));
    this.cleanups.push(() => rmSync(work, { recursive: true, force: true }));
    const workspace = join(work, 'workspace');
    for (const [path, text] of Object.entries(options.files)) {
      mkdirSync(dirname(join(workspace, path)), { recursive: true });
      writeFileSync(join(workspace, path), text);
    }
    await options.prepare?.(workspace);
    const dirs = {
      extensions: join(work, 'extensions'),
      userData: join(work, 'user-data'),
      config: join(work, 'config.yaml'),
    };
    const vsix = await packageVsix(work);
    await installExtension(binary, vsix, dirs);
    const server = await startCodeServer(binary, dirs, workspace, options);
    this.cleanups.push(() => server.stop());
    this.current = { workspace, vsix, server };
    const browser = await launchChromium();
    this.cleanups.push(() => browser.close());
    const page = await openWorkbench(browser, server.url, workspace);
    const screenshot = async (name: string): Promise<void> => {
      mkdirSync(ARTIFACTS, { recursive: true });
      await page.mouse.move(700, 400); // no hover tooltip left over from the last click
      await page.screenshot({ path: join(ARTIFACTS, name) });
    };
    const session = { workspace, vsix, server, page, screenshot };
    this.current = session;
    return session;
  }

  /** Saves a screenshot of the current session's page to $MLW_TEST_ARTIFACTS. */
  async screenshot(name: string): Promise<void> {
    if (this.current.screenshot === undefined) throw new Error('no editor session is open');
    await this.current.screenshot(name);
  }

  /**
   * Runs a test step; on failure saves a screenshot named after it and appends code-server's log.
   * Waits on the page have no time limit, so a wait for something that can never appear would hold
   * the whole run until CI's own limit: a step still going after 2 minutes gets a `stuck-` screenshot,
   * and after 10 minutes fails as a hang. These guard against hangs; they say nothing about speed
   * (every step here takes seconds).
   */
  async step(name: string, body: () => Promise<void>): Promise<void> {
    const stuck = setTimeout(() => {
      process.stderr.write(`e2e: step ${name} still waiting after 2 minutes: screenshot stuck-${name}.png\n`);
      void this.current.screenshot?.(`stuck-${name}.png`).catch(() => undefined);
    }, STUCK_AFTER_MS);
    let hangTimer: NodeJS.Timeout | undefined;
    const hang = new Promise<never>((_, reject) => {
      hangTimer = setTimeout(
        () => reject(new Error(`step ${name} made no progress for 10 minutes: a wait that cannot end (see stuck-${name}.png)`)),
        HANG_AFTER_MS,
      );
    });
    try {
      await Promise.race([body(), hang]);
    } catch (error) {
      await this.current.screenshot?.(`failed-${name}.png`).catch(() => undefined);
      const log = this.current.server?.log().split('\n').slice(-30).join('\n') ?? '';
      const message = error instanceof Error ? error.message : String(error);
      throw new Error(`${message}\n--- code-server log (tail) ---\n${log}`, { cause: error });
    } finally {
      clearTimeout(stuck);
      clearTimeout(hangTimer);
    }
  }

  async close(): Promise<void> {
    for (const cleanup of this.cleanups.splice(0).reverse()) {
      try {
        await cleanup();
      } catch (error) {
        process.stderr.write(`e2e teardown: ${String(error)}\n`);
      }
    }
  }
}
