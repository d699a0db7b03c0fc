// Launches Debian's Chromium for the end-to-end tests, with Web Bluetooth exposed.
import puppeteer from 'puppeteer-core';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Launches headless Chromium on `userDataDir` (a fresh temporary profile when not given), with Web
 * Bluetooth exposed unless `webBluetooth` is false (the load benchmark measures the page as users get it).
 */
export async function launchChromium({ userDataDir, webBluetooth = true } = {}) {
  return puppeteer.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    // Puppeteer waits 30 s for Chromium to start by default; once, on a loaded 2-core machine, the
    // smoke suite's first launch took longer and failed before any test ran.
    timeout: 90_000,
    userDataDir: userDataDir ?? (await mkdtemp(join(tmpdir(), 'bluehome-chromium-'))),
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-dev-shm-usage',
      // Without these two, Chromium floods this machine's closed network with refused connections.
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
      ...(webBluetooth ? ['--enable-experimental-web-platform-features'] : []),
    ],
  });
}

/** Collects console errors, page errors and failed requests of one page. */
export function watchPage(page) {
  const problems = [];
  // A deep link is served by the host's 404.html with status 404: Chromium logs that as a console
  // error for the document itself, which is expected here and is the only error allowed.
  const fallbackDocuments = new Set();
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    if (fallbackDocuments.has(msg.location()?.url) && msg.text().includes('404')) return;
    problems.push(`console error: ${msg.text()}`);
  });
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('requestfailed', (req) => problems.push(`request failed: ${req.url()} ${req.failure()?.errorText}`));
  page.on('response', (res) => {
    if (res.status() === 404 && res.request().resourceType() === 'document') {
      fallbackDocuments.add(res.url());
    } else if (res.status() >= 400) {
      problems.push(`HTTP ${res.status()} for ${res.url()}`);
    }
  });
  return problems;
}

/** A tiny test runner: named cases, a summary line "N passed, N failed". */
export function runner() {
  const results = [];
  return {
    async test(name, body) {
      const started = Date.now();
      try {
        await body();
        results.push({ name, ok: true });
        console.log(`ok    ${name} (${Date.now() - started} ms)`);
      } catch (err) {
        results.push({ name, ok: false });
        console.log(`FAIL  ${name}\n      ${String(err?.stack ?? err).split('\n').join('\n      ')}`);
      }
    },
    finish() {
      const passed = results.filter((r) => r.ok).length;
      const failed = results.length - passed;
      console.log(`${passed} passed, ${failed} failed`);
      return failed === 0 ? 0 : 1;
    },
  };
}
