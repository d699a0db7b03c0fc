// Smoke test of the release build: served at / and under a sub-path by a plain static server,
// the app renders in headless Chromium with no console errors and no broken assets, deep links load,
// and in-app navigation keeps the sub-path.
// Usage: node tests/e2e/smoke.mjs [dist]
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { serveDist } from './serve.mjs';
import { launchChromium, runner, watchPage } from './browser.mjs';

const dist = resolve(process.argv[2] ?? 'dist');
const t = runner();
const browser = await launchChromium();

async function open(url) {
  const page = await browser.newPage();
  const problems = watchPage(page);
  await page.goto(url, { waitUntil: 'networkidle0' });
  await page.waitForSelector('main h1', { timeout: 10_000 });
  return { page, problems };
}

const heading = (page) => page.$eval('main h1', (h) => h.textContent.trim());

for (const prefix of ['/', '/bluehome/']) {
  const server = await serveDist(dist, prefix);
  try {
    await t.test(`renders at ${prefix} with no console errors`, async () => {
      const { page, problems } = await open(server.url);
      assert.equal(await heading(page), 'Scan');
      const badges = await page.$$eval('.capabilities .badge', (els) => els.length);
      assert.equal(badges, 6, 'one badge per Web Bluetooth capability');
      assert.deepEqual(problems, []);
      await page.close();
    });

    await t.test(`deep link ${prefix}decode loads through 404.html`, async () => {
      const { page, problems } = await open(`${server.url}decode`);
      assert.equal(await heading(page), 'Decode');
      assert.deepEqual(problems, []);
      await page.close();
    });

    await t.test(`navigation under ${prefix} keeps the prefix`, async () => {
      const { page, problems } = await open(server.url);
      await page.click('nav a[href$="about"]');
      await page.waitForFunction(() => document.querySelector('main h1')?.textContent.includes('About'));
      assert.equal(new URL(page.url()).pathname, `${prefix}about`);
      assert.deepEqual(problems, []);
      await page.close();
    });
  } finally {
    await server.close();
  }
}

await browser.close();
process.exit(t.finish());
