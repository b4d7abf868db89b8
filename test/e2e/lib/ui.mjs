// Driving the VS Code workbench in Debian's Chromium with playwright-core: explorer, context menus,
// quick inputs, the command palette, notifications, screenshots. Every wait polls with a time limit.
import { join } from 'node:path';
import { CHROMIUM } from './deps.mjs';

export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export async function launchBrowser(profileDir) {
  // imported here: run.mjs loads this module before it installs test/e2e's dependencies
  const { chromium } = await import('playwright-core');
  return chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1400, height: 900 },
  });
}

/** Polls `fn` (truthy = done) until `timeoutMs`; throws naming `what`. */
export async function until(what, fn, timeoutMs = 15_000, everyMs = 100) {
  const end = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs / 1000} s: ${what}${last ? ` (${String(last.message ?? last).split('\n')[0]})` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export class Workbench {
  constructor(page, shotsDir, prefix) {
    this.page = page;
    this.shotsDir = shotsDir;
    this.prefix = prefix;
    this.n = 0;
    this.shots = [];
  }

  async shot(name) {
    const file = join(this.shotsDir, `${this.prefix}-${String(++this.n).padStart(2, '0')}-${name}.png`);
    await this.page.screenshot({ path: file }).catch(() => undefined);
    this.shots.push(file);
    return file;
  }

  async waitForWorkbench(timeoutMs = 60_000) {
    await this.page.locator('.monaco-workbench').waitFor({ timeout: timeoutMs });
    await this.page.locator('.explorer-folders-view .monaco-list-row').first().waitFor({ timeout: timeoutMs });
  }

  treeItem(name) {
    return this.page.locator('.explorer-folders-view').getByRole('treeitem', { name, exact: true });
  }

  /** Expands explorer folders along `path` (['models']) and returns the row of the last name. */
  async reveal(path) {
    for (let i = 0; i < path.length; i++) {
      const row = this.treeItem(path[i]);
      await row.waitFor({ timeout: 20_000 });
      if (i < path.length - 1 && (await row.getAttribute('aria-expanded')) === 'false') await row.click();
    }
    return this.treeItem(path.at(-1));
  }

  /** Right-clicks an explorer row and clicks a context menu item, retrying while contributions register. */
  async contextMenu(row, item, timeoutMs = 20_000) {
    let shot = false;
    await until(`context menu item "${item}"`, async () => {
      await row.click({ button: 'right' });
      const entry = this.page.locator('.monaco-menu .action-item', { hasText: item }).first();
      try {
        await entry.waitFor({ state: 'visible', timeout: 1500 });
      } catch {
        await this.page.keyboard.press('Escape');
        return false;
      }
      if (!shot) {
        await this.shot('context-menu');
        shot = true;
      }
      await entry.click();
      return true;
    }, timeoutMs, 300);
  }

  quickInput() {
    return this.page.locator('.quick-input-widget');
  }

  async waitForQuickInputTitle(text, timeoutMs = 20_000) {
    await this.page.locator('.quick-input-widget .quick-input-title', { hasText: text }).waitFor({ state: 'visible', timeout: timeoutMs });
  }

  /** Types into the open input box and presses Enter. */
  async answerInput(value) {
    const input = this.page.locator('.quick-input-widget .quick-input-box input');
    await input.fill(value);
    await input.press('Enter');
  }

  quickPickRow(text) {
    return this.page.locator('.quick-input-widget .quick-input-list .monaco-list-row', { hasText: text }).first();
  }

  /** Opens the command palette with `text` typed; resolves with the first row holding `label`, reopening until it is listed. */
  async palette(text, label, timeoutMs = 30_000) {
    let row;
    await until(`palette row "${label}"`, async () => {
      if (!(await this.quickInput().isVisible())) await this.page.keyboard.press('F1');
      const input = this.page.locator('.quick-input-widget .quick-input-box input');
      await input.waitFor({ state: 'visible', timeout: 3000 });
      await input.fill(text);
      row = this.quickPickRow(label);
      try {
        await row.waitFor({ state: 'visible', timeout: 1500 });
        return true;
      } catch {
        await this.page.keyboard.press('Escape');
        return false;
      }
    }, timeoutMs, 300);
    return row;
  }

  /**
   * Opens the notification centre (the bell in the status bar) unless it is open. Needed to read
   * notifications: this workbench (smoke-test driver, headless) shows no toasts.
   */
  async showNotificationCenter() {
    if (await this.page.locator('.notifications-center.visible').isVisible()) return;
    await this.page.locator('[id="status.notifications"]').click();
    await this.page.locator('.notifications-center.visible').waitFor({ state: 'visible', timeout: 5000 });
  }

  /** Text of every notification in the notification centre. */
  async notifications() {
    await this.showNotificationCenter();
    return this.page.locator('.notifications-center .notification-list-item').evaluateAll((els) => els.map((e) => e.textContent ?? ''));
  }

  statusBarItem(text) {
    return this.page.locator('.statusbar-item', { hasText: text }).first();
  }
}
