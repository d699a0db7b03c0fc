// A person's walk through the app in one page: what the end-to-end walks (shelly.mjs, setup.mjs)
// share. Named steps with a screenshot each, the page's console kept for the report, and
// Chromium's device chooser driven through CDP DeviceAccess.

import assert from 'node:assert/strict';

/**
 * Opens a page for a walk. `shots` is the screenshot folder, `prefix` starts each file name.
 * Returns the page and the helpers the walk's steps use.
 */
export async function openWalk(browser, t, { shots, prefix = '' }) {
  const page = await browser.newPage();
  await page.setViewport({ width: 1100, height: 900 });
  const consoleLines = [];
  page.on('console', (msg) => consoleLines.push(`${msg.type()}: ${msg.text()}`));
  page.on('pageerror', (err) => consoleLines.push(`pageerror: ${err.message}`));

  let shot = 0;
  const screenshot = (name) =>
    page.screenshot({ path: `${shots}/${prefix}${String(++shot).padStart(2, '0')}-${name}.png`, fullPage: true });
  const button = (text) => page.locator(`button::-p-text(${text})`);
  const mainText = () => page.$eval('main', (m) => m.innerText);
  const waitText = (text, timeout = 15_000) =>
    page.waitForFunction((s) => document.querySelector('main')?.innerText.includes(s), { timeout }, text);

  /** Types into the text field whose label reads `label`. */
  async function fill(label, value) {
    const input = await page.waitForFunction(
      (l) =>
        [...document.querySelectorAll('label.field')]
          .find((f) => f.querySelector('span')?.textContent.trim() === l)
          ?.querySelector('input'),
      {},
      label,
    );
    await input.asElement().click({ count: 3 });
    await input.asElement().type(value);
  }

  // One CDP session for the whole walk (detaching a second page session confuses Puppeteer's
  // frame bookkeeping).
  const access = await page.createCDPSession();
  await access.send('DeviceAccess.enable');
  let choice = null;
  access.on('DeviceAccess.deviceRequestPrompted', (prompt) => {
    // The event repeats as the chooser's list updates: pick once the wanted device is listed.
    if (!choice || !prompt.devices.some((d) => d.id === choice.address)) return;
    const { address, resolve, reject } = choice;
    choice = null;
    access.send('DeviceAccess.selectPrompt', { id: prompt.id, deviceId: address }).then(resolve, reject);
  });

  /** Runs `trigger` (a click that opens the chooser), then picks the device at `address`. */
  async function choose(trigger, address) {
    const picked = new Promise((resolve, reject) => {
      choice = { address, resolve, reject };
      setTimeout(() => reject(new Error(`no chooser listed ${address} within 10 s`)), 10_000);
    });
    await trigger();
    await picked;
  }

  /** A test case that ends with a screenshot named after it, passed or not. */
  async function step(name, body) {
    await t.test(name, async () => {
      try {
        await body();
      } finally {
        await screenshot(name.replace(/[^a-z0-9]+/gi, '-').toLowerCase()).catch(() => {});
      }
    });
  }

  /** Console lines that break a Content-Security-Policy rule or report a page error. */
  const pageProblems = () => consoleLines.filter((l) => /Content Security Policy|^pageerror/i.test(l));

  /** The walk's last case: no Content-Security-Policy rule broken, no page error thrown. */
  const checkPage = () =>
    t.test('the walk broke no Content-Security-Policy rule and threw no page error', async () => {
      assert.deepEqual(pageProblems(), []);
    });

  /**
   * Ends the walk: the summary line and, when a case failed, the page's console and the tail of
   * each simulator's transcript (`transcripts`: `[heading, simulator, lines]`). Returns the exit code.
   */
  function finish(transcripts) {
    const code = t.finish();
    if (code !== 0) {
      console.log('--- page console ---');
      console.log(consoleLines.join('\n'));
      for (const [heading, simulator, lines] of transcripts) {
        console.log(`--- ${heading} (last ${lines} lines) ---`);
        console.log(simulator.transcript.slice(-lines).join('\n'));
      }
    }
    return code;
  }

  return { page, screenshot, button, mainText, waitText, fill, choose, step, checkPage, finish };
}
