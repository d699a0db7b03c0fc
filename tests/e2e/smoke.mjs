// Hosting tests of the release build, served by a plain static server at / and under a sub-path:
// the app renders with no console errors, broken assets or CSP violations; deep links load through
// 404.html, the pages that are parts of their own included; navigation keeps the sub-path; the
// Content-Security-Policy is in force; after the first visit every page and the demo open offline,
// by address and by link; a new deploy is announced and activated on the user's click; hosts that
// send .wasm without its type, run Jekyll, answer 404 with their own page, cache for 10 minutes, or
// send the headers of `_headers` (framing refused);
// without a Bluetooth adapter (Chromium's emulation) the page says what to do and finds one later.
// Usage: node tests/e2e/smoke.mjs [dist]
import assert from 'node:assert/strict';
import { mkdir, readFile, readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { serveDist } from './serve.mjs';
import { launchChromium, runner, watchPage } from './browser.mjs';

const dist = resolve(process.argv[2] ?? 'dist');
const t = runner();
const browser = await launchChromium();

async function open(url, context = browser, { rendered = true } = {}) {
  const page = await context.newPage();
  const problems = watchPage(page);
  await page.evaluateOnNewDocument(() => {
    window.__cspViolations = [];
    document.addEventListener('securitypolicyviolation', (e) =>
      window.__cspViolations.push(`${e.violatedDirective} blocked ${e.blockedURI || 'inline'}`),
    );
  });
  await page.goto(url, { waitUntil: 'networkidle0' });
  if (rendered) await page.waitForSelector('main h1', { timeout: 10_000 });
  return { page, problems };
}

const heading = (page) => page.$eval('main h1', (h) => h.textContent.trim());
const violations = (page) => page.evaluate(() => window.__cspViolations);
const shows = (page, title) =>
  page.waitForFunction((h) => document.querySelector('main h1')?.textContent.trim() === h, { timeout: 10_000 }, title);

/** Resolves once a service worker controls `page`. */
const controlled = (page) =>
  page.evaluate(async () => {
    await navigator.serviceWorker.ready;
    if (!navigator.serviceWorker.controller) {
      await new Promise((r) => navigator.serviceWorker.addEventListener('controllerchange', r, { once: true }));
    }
  });

/**
 * Serves the next deploy on `server`: the same code under new URLs (`app-<hash>-next/`), as a changed
 * build gets them (.ci/assemble.mjs), and a service worker of a new version listing them. Returns
 * the new code directory's name.
 */
async function deployNext(server) {
  const html = await readFile(join(dist, 'index.html'), 'utf8');
  const app = html.match(/app-[0-9a-f]+/)[0];
  const next = `${app}-next`;
  for (const file of await readdir(join(dist, app))) {
    server.replace(join(next, file), await readFile(join(dist, app, file)));
  }
  for (const page of ['index.html', '404.html']) {
    server.replace(page, (await readFile(join(dist, page), 'utf8')).replaceAll(app, next));
  }
  const worker = (await readFile(join(dist, 'sw.js'), 'utf8'))
    .replace(/const VERSION = "([0-9a-f]+)"/, 'const VERSION = "$1-next"')
    .replaceAll(app, next);
  server.replace('sw.js', worker);
  return next;
}

for (const prefix of ['/', '/bluehome/']) {
  const server = await serveDist(dist, prefix);
  try {
    await t.test(`renders at ${prefix} with no console errors or CSP violations`, async () => {
      const { page, problems } = await open(server.url);
      assert.equal(await heading(page), 'Scan');
      const badges = await page.$$eval('.capabilities .badge', (els) => els.length);
      assert.equal(badges, 6, 'one badge per Web Bluetooth capability');
      assert.deepEqual(problems, []);
      assert.deepEqual(await violations(page), []);
      await page.close();
    });

    for (const [path, title] of [['decode', 'Decode'], ['devices', 'Devices']]) {
      await t.test(`deep link ${prefix}${path} loads through 404.html`, async () => {
        const { page, problems } = await open(`${server.url}${path}`);
        assert.equal(await heading(page), title);
        assert.equal(await page.title(), `${title} – bluehome`);
        assert.deepEqual(problems, []);
        assert.deepEqual(await violations(page), []);
        await page.close();
      });
    }

    if (prefix === '/') {
      // A path that starts with two slashes (a host serves 404.html for it) must not turn the
      // base into a network-path reference to another site ("//evil.example/").
      await t.test('a path starting with // keeps the base on this site', async () => {
        // (The release build's CSP, base-uri 'self', would refuse such a base: a violation.) The
        // app need not render there: its files are not under that path.
        const origin = new URL(server.url).origin;
        const { page } = await open(`${origin}//evil.example/decode`, browser, { rendered: false });
        const base = await page.evaluate(() => document.baseURI);
        assert.ok(base.startsWith(`${origin}/`), base);
        assert.deepEqual(await violations(page), []);
        await page.close();
      });
    }

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

{
  const server = await serveDist(dist, '/bluehome/');
  try {
    await t.test('the CSP blocks an injected inline script and the app keeps working', async () => {
      const { page } = await open(server.url);
      const policy = await page.$eval('meta[http-equiv="Content-Security-Policy"]', (m) => m.content);
      assert.match(policy, /script-src 'self' 'wasm-unsafe-eval' 'sha256-/);
      assert.doesNotMatch(policy, /unsafe-inline/);
      const ran = await page.evaluate(async () => {
        const script = document.createElement('script');
        script.textContent = 'window.__injected = true;';
        document.body.append(script);
        await new Promise((r) => setTimeout(r, 50));
        return window.__injected === true;
      });
      assert.equal(ran, false, 'the injected inline script must not run');
      assert.deepEqual(await violations(page), ['script-src-elem blocked inline']);
      await page.click('nav a[href$="decode"]');
      await page.waitForFunction(() => document.querySelector('main h1')?.textContent.includes('Decode'));
      await page.close();
    });

    await t.test('demo mode shows simulated sensors with decoded readings', async () => {
      const { page, problems } = await open(`${server.url}?demo`);
      await page.setViewport({ width: 1100, height: 900 });
      await page.waitForFunction(() => /°C/.test(document.querySelector('main')?.innerText ?? ''), { timeout: 15_000 });
      await new Promise((r) => setTimeout(r, 2500)); // let a few readings arrive for the sparklines
      await mkdir('tests/e2e/screenshots', { recursive: true });
      await page.screenshot({ path: 'tests/e2e/screenshots/00-demo-scan.png', fullPage: true });
      assert.deepEqual(problems, []);
      assert.deepEqual(await violations(page), []);
      await page.close();
    });

    await t.test('a page that is still on its way shows that it is loading', async () => {
      const { page, problems } = await open(server.url);
      // A first visit on a slow link: the Devices page's part comes from the network (not from the
      // service worker's cache) and takes a while to arrive.
      await page.setBypassServiceWorker(true);
      const cdp = await page.createCDPSession();
      await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 400, downloadThroughput: 100_000, uploadThroughput: 50_000 });
      await page.click('nav a[href$="devices"]');
      await page.waitForSelector('main[aria-busy="true"]', { timeout: 5_000 });
      await page.waitForFunction(() => document.querySelector('main h1')?.textContent.trim() === 'Devices', { timeout: 30_000 });
      await page.waitForSelector('main[aria-busy="false"]', { timeout: 5_000 });
      assert.deepEqual(problems, []);
      await page.close();
    });

    const context = await browser.createBrowserContext();
    await t.test('after the first visit every page and the demo open offline, by address and by link', async () => {
      const { page } = await open(server.url, context);
      await controlled(page);
      // A phone that loses its signal mid-set-up: nothing comes from the network from here on, for
      // the page or its service worker (whose fetches the page's offline mode does not cover).
      await page.setOfflineMode(true);
      server.setOffline(true);
      try {
        const pages = [
          ['', 'Scan'],
          ['devices', 'Devices'],
          ['decode', 'Decode'],
          ['about', 'About bluehome'],
        ];
        await page.reload({ waitUntil: 'load' });
        await shows(page, 'Scan');
        for (const [path, title] of pages) {
          await page.goto(`${server.url}${path}`, { waitUntil: 'load' });
          await shows(page, title);
        }
        // By link, from a fresh start: each page's part comes from the worker's cache.
        await page.goto(server.url, { waitUntil: 'load' });
        await shows(page, 'Scan');
        await page.waitForSelector('.scan-layout', { timeout: 10_000 });
        for (const [path, title] of pages.slice(1)) {
          await page.click(`nav a[href$="${path}"]`);
          await shows(page, title);
        }
        await page.goto(`${server.url}?demo`, { waitUntil: 'load' });
        await page.waitForFunction(() => /°C/.test(document.querySelector('main')?.innerText ?? ''), { timeout: 15_000 });
        assert.deepEqual(await violations(page), []);
      } finally {
        server.setOffline(false);
        await page.setOfflineMode(false);
      }
      await page.close();
    });

    await t.test('the web app manifest makes it installable', async () => {
      const { page } = await open(server.url); // the default profile: incognito contexts never install
      const cdp = await page.createCDPSession();
      const { installabilityErrors } = await cdp.send('Page.getInstallabilityErrors');
      assert.deepEqual(installabilityErrors, []);
      const { url, errors } = await cdp.send('Page.getAppManifest');
      assert.ok(url.endsWith('/bluehome/public/manifest.webmanifest'), url);
      assert.deepEqual(errors, []);
      await page.close();
    });

    await t.test('a new deploy is announced, and activated when the user asks', async () => {
      const { page } = await open(server.url, context);
      // The banner's live region is on the page, empty, before there is news (components/live.rs).
      assert.equal(await page.$eval('.update-banner > [role="status"]', (r) => r.textContent), '', 'no banner before a new version exists');
      assert.equal(await page.$('.update-banner button'), null, 'no button before a new version exists');
      const current = await readFile(join(dist, 'sw.js'), 'utf8');
      const next = current.replace(/const VERSION = "([0-9a-f]+)"/, 'const VERSION = "$1-next"');
      assert.notEqual(next, current);
      server.replace('sw.js', next);
      await page.evaluate(async () => (await navigator.serviceWorker.getRegistration()).update());
      await page.waitForSelector('.update-banner button', { timeout: 10_000 });
      await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.click('.update-banner button')]);
      await page.waitForSelector('main h1', { timeout: 10_000 });
      const cacheNames = await page.evaluate(() => caches.keys());
      assert.ok(cacheNames.some((name) => name.endsWith('-next')), `new cache active: ${cacheNames}`);
      assert.equal(await page.$('.update-banner button'), null, 'banner gone after the update');
      await page.close();
    });
    await context.close();
  } finally {
    await server.close();
  }
}

// Hosts with other habits than the plain server above (serve.mjs says what each does).
for (const [host, options] of [
  ['nginx before 1.21 (.wasm as application/octet-stream)', { wasmType: 'application/octet-stream' }],
  ['GitHub Pages building with Jekyll', { jekyll: true }],
]) {
  const server = await serveDist(dist, '/bluehome/', options);
  try {
    await t.test(`on ${host} the pages that are parts of their own load`, async () => {
      const { page, problems } = await open(server.url);
      await page.waitForSelector('.scan-layout', { timeout: 10_000 });
      await page.click('nav a[href$="devices"]');
      await shows(page, 'Devices');
      assert.deepEqual(problems, []);
      await page.close();
    });
  } finally {
    await server.close();
  }
}

/**
 * Whether the app at `url` renders inside an iframe of a page from another origin (about:blank here),
 * within `ms`.
 */
async function rendersFramed(url, ms) {
  const page = await browser.newPage();
  try {
    await page.setContent(`<iframe src="${url}" width="800" height="600"></iframe>`, { waitUntil: 'load' });
    const until = Date.now() + ms;
    while (Date.now() < until) {
      for (const frame of page.frames().slice(1)) {
        if (await frame.$('main h1').catch(() => null)) return true;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    return false;
  } finally {
    await page.close();
  }
}

// Netlify and Cloudflare Pages send the headers that dist/_headers lists (.ci/postbuild.mjs): the
// policy of the <meta>, and `frame-ancestors`, which only a header can carry.
{
  const server = await serveDist(dist, '/', { headersFile: true });
  const plain = await serveDist(dist, '/');
  try {
    await t.test('on a host that reads _headers the app runs under the header policy, and no other page can frame it', async () => {
      const response = await fetch(server.url);
      const policy = response.headers.get('content-security-policy') ?? '';
      const meta = (await response.text()).match(/http-equiv="Content-Security-Policy" content="([^"]+)"/)[1];
      assert.equal(policy, `${meta}; frame-ancestors 'none'`);
      assert.equal((await fetch(`${server.url}_headers`)).status, 404, 'the host serves _headers to no one');
      const { page, problems } = await open(server.url);
      await page.waitForSelector('.scan-layout', { timeout: 10_000 });
      await page.click('nav a[href$="devices"]');
      await shows(page, 'Devices');
      await controlled(page);
      assert.deepEqual(problems, []);
      assert.deepEqual(await violations(page), []);
      await page.close();
      assert.equal(await rendersFramed(plain.url, 10_000), true, 'without the header another page can frame the app');
      assert.equal(await rendersFramed(server.url, 3_000), false, 'with it, it cannot');
    });
  } finally {
    await server.close();
    await plain.close();
  }
}

{
  const server = await serveDist(dist, '/tools/bluehome/', { hostNotFound: true });
  const context = await browser.createBrowserContext();
  try {
    await t.test('after the first visit deep links open the app where the host answers 404 with its own page', async () => {
      const { page } = await open(server.url, context);
      await controlled(page);
      for (const [path, title] of [['devices', 'Devices'], ['decode/x', 'Not found']]) {
        await page.goto(`${server.url}${path}`, { waitUntil: 'load' });
        await shows(page, title);
      }
      await page.close();
    });
  } finally {
    await context.close();
    await server.close();
  }
}

{
  const server = await serveDist(dist, '/bluehome/', { cacheControl: 'max-age=600' });
  const context = await browser.createBrowserContext();
  try {
    await t.test('a new deploy behind max-age caching: the new version caches its own files, and a window still on the old one loads its parts offline', async () => {
      const { page: old } = await open(server.url, context);
      await controlled(old);
      const { page } = await open(server.url, context);
      const next = await deployNext(server);
      await page.evaluate(async () => (await navigator.serviceWorker.getRegistration()).update());
      await page.waitForSelector('.update-banner button', { timeout: 10_000 });
      await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.click('.update-banner button')]);
      const shell = await page.evaluate(async () => {
        const names = await caches.keys();
        const cached = await (await caches.open(names.find((n) => n.endsWith('-next')))).match('./index.html');
        return cached.text();
      });
      assert.ok(shell.includes(next), 'the new cache holds the new index.html, not the HTTP cache\'s old one');
      // The other window still runs the old code: the new worker controls it now, and its Devices
      // page's part comes from the old version's cache.
      await old.setOfflineMode(true);
      server.setOffline(true);
      try {
        await old.bringToFront(); // a background tab does not render, so it could not be clicked
        await old.click('nav a[href$="devices"]');
        await shows(old, 'Devices');
      } finally {
        server.setOffline(false);
        await old.setOfflineMode(false);
      }
      await page.close();
      await old.close();
    });
  } finally {
    await context.close();
    await server.close();
  }
}

{
  const server = await serveDist(dist, '/');
  // Chromium's Bluetooth emulation is browser-wide: this case runs last, after every case above has
  // met the machine's own (absent) adapter.
  const cdp = await browser.target().createCDPSession();
  try {
    await t.test('with no Bluetooth adapter the panel says what to do, and "Check again" finds one plugged in', async () => {
      await cdp.send('BluetoothEmulation.enable', { state: 'absent', leSupported: true });
      const { page, problems } = await open(server.url);
      await page.waitForFunction(
        () => document.querySelector('.capabilities summary')?.textContent.includes('No Bluetooth adapter found'),
        { timeout: 10_000 },
      );
      assert.equal(await page.$eval('.capabilities details', (d) => d.open), true, 'open at once');
      await cdp.send('BluetoothEmulation.disable');
      await cdp.send('BluetoothEmulation.enable', { state: 'powered-on', leSupported: true });
      await page.click('.no-adapter button');
      await page.waitForFunction(
        () => document.querySelector('.capabilities summary')?.textContent.includes('Bluetooth ready'),
        { timeout: 10_000 },
      );
      assert.equal(await page.$$eval('.no-adapter', (e) => e.length), 0);
      assert.deepEqual(problems, []);
      await page.close();
    });
  } finally {
    await cdp.send('BluetoothEmulation.disable').catch(() => {});
    await server.close();
  }
}

await browser.close();
process.exit(t.finish());
