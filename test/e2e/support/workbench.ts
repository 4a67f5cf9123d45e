/**
 * Driving the VS Code workbench in Debian's Chromium through playwright-core: the few gestures the
 * end-to-end tests need, each waiting on the DOM (never on time).
 */
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';

const CHROMIUM = '/usr/bin/chromium';
// The flags from /work/shared/notes/test-infrastructure.md: no sandbox (root), no GPU, no network chatter.
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}

/** Opens the workbench on `folder`; resolves once it has rendered. Waits have no time limit. */
export async function openWorkbench(browser: Browser, url: string, folder: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 860 } });
  page.setDefaultTimeout(0);
  page.setDefaultNavigationTimeout(0);
  await page.goto(`${url}/?folder=${encodeURIComponent(folder)}`);
  await page.locator('.monaco-workbench').waitFor();
  return page;
}

/** The status bar item an extension contributed, found by its accessible label's start. */
export function statusItem(page: Page, labelStart: string): Locator {
  return page.locator(`.statusbar-item[aria-label^="${labelStart}"]`);
}

/** Opens a file of the workspace through Quick Open and waits for its editor tab. */
export async function openFile(page: Page, fileName: string): Promise<void> {
  await page.keyboard.press('Control+P');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor();
  await input.fill(fileName);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: fileName }).first().waitFor();
  await page.keyboard.press('Enter');
  await page.locator(`.tab[aria-label*="${fileName}"]`).waitFor();
}

/** Shows the Problems panel (View: Toggle Problems, unless it is showing: it would hide it). */
export async function showProblems(page: Page): Promise<Locator> {
  const panel = page.locator('.markers-panel');
  if (!(await panel.isVisible())) await page.keyboard.press('Control+Shift+M');
  await panel.waitFor();
  return panel;
}

/**
 * Opens a view container of the activity bar by its title and returns its side bar. With `view`,
 * that view is expanded and every other view of the container collapsed: a tree renders only the
 * rows it has room for (the list is virtual), so a row below a crowded pane's fold is not in the
 * page at all, and waiting for it would never end (seen: the Branches view's Remote group once the
 * container held five views).
 */
export async function openViewContainer(page: Page, title: string, view?: string): Promise<Locator> {
  const item = page.locator(`.activitybar li.action-item:has(> a.action-label[aria-label="${title}"])`);
  // Clicking the container that is already showing would close the side bar.
  if ((await item.getAttribute('aria-selected')) !== 'true') await item.click();
  const sidebar = page.locator('.part.sidebar');
  await sidebar.locator('.composite.title', { hasText: title }).waitFor();
  if (view !== undefined) await showOnlyView(sidebar, view);
  return sidebar;
}

async function showOnlyView(sidebar: Locator, view: string): Promise<void> {
  const target = `${view} Section`;
  await sidebar.locator(`.pane-header[aria-label="${target}"]`).waitFor();
  for (const header of await sidebar.locator('.pane-header[aria-label$=" Section"]').all()) {
    const label = (await header.getAttribute('aria-label')) ?? '';
    const expanded = (await header.getAttribute('aria-expanded')) === 'true';
    if ((label === target) === expanded) continue;
    await header.locator('.title').click();
    await sidebar.locator(`.pane-header[aria-label="${label}"][aria-expanded="${String(!expanded)}"]`).waitFor();
  }
}

/** Runs a command by its title through the Command Palette. */
export async function runCommand(page: Page, title: string): Promise<void> {
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor();
  await input.fill(`>${title}`);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first().waitFor();
  await page.keyboard.press('Enter');
}

/**
 * Opens `target`'s context menu and runs `action` from it; fails naming the menu's items when it
 * lacks the action. The item is hovered until the menu marks it focused, and only then clicked: a
 * click that came ~80 ms after the menu opened was ignored by the workbench (the menu stayed open,
 * nothing ran, and the test waited forever for what the action would show). Enter instead of the
 * click ran the command without its row.
 */
export async function fromContextMenu(page: Page, target: Locator, action: string): Promise<void> {
  await target.click({ button: 'right' });
  const menu = page.locator('.context-view .monaco-menu');
  const items = menu.locator('.action-item');
  await items.first().waitFor();
  const labels = await items.allInnerTexts();
  if (!labels.some((label) => label.includes(action))) {
    await page.keyboard.press('Escape');
    throw new Error(`the context menu has no "${action}": ${labels.join(' | ')}`);
  }
  const item = items.filter({ hasText: action }).first();
  const focused = menu.locator('.focused', { hasText: action });
  // A hover can come before the menu listens, and then no later mouse event reaches it (seen in CI
  // on 2026-12-06: the menu open, no item marked, for 10 minutes): move within the item until the
  // menu marks it.
  for (let attempt = 0; (await focused.count()) === 0; attempt++) {
    await item.hover({ position: { x: 12 + (attempt % 2) * 24, y: 8 } });
    await page.waitForTimeout(50);
  }
  await item.click();
  await menu.waitFor({ state: 'detached' });
}
