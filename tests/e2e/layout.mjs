// Layout and accessibility of every page of the release build in demo mode, at phone size
// (390 x 844) and desktop size (1280 x 900), in the light and the dark theme: nothing scrolls
// sideways, no box clips its text, no two texts overlap (tests/e2e/layout-check.mjs), no device
// card's content spills out of it, all also with WCAG's text spacing applied, and axe-core finds no
// serious or critical violation. First, the checker is shown to catch each fault on a fixture
// page. Each page is also saved as a picture in the shots directory.
// Usage: node tests/e2e/layout.mjs [dist] [shots directory, default tests/e2e/screenshots/layout]
import assert from 'node:assert/strict';
import { mkdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { serveDist } from './serve.mjs';
import { launchChromium, runner, watchPage } from './browser.mjs';
import { layoutProblems } from './layout-check.mjs';

const dist = resolve(process.argv[2] ?? 'dist');
const shots = resolve(process.argv[3] ?? 'tests/e2e/screenshots/layout');
// axe-core from node_modules (pinned in package-lock.json), put into each page by the test only.
const axeSource = await readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

const VIEWPORTS = [
  ['phone', { width: 390, height: 844, deviceScaleFactor: 1, isMobile: true, hasTouch: true }],
  ['desktop', { width: 1280, height: 900, deviceScaleFactor: 1 }],
];
const THEMES = ['light', 'dark'];
const readings = (page) =>
  page.waitForFunction(() => /°C/.test(document.querySelector('main')?.innerText ?? ''), { timeout: 15_000 });
// name, path, title, what to do once the page shows its title
const PAGES = [
  ['scan', '', 'Scan', async (page) => {
    await readings(page);
    await new Promise((r) => setTimeout(r, 2500)); // a few readings, for the sparklines
  }],
  ['scan-details', '', 'Scan', async (page) => {
    await readings(page);
    await new Promise((r) => setTimeout(r, 2500));
    await page.click('[aria-controls="device-details"]');
    await page.waitForSelector('#device-details', { timeout: 5_000 });
  }],
  ['devices', 'devices', 'Devices', async () => {}],
  // Connected to the demo's gateway through "Set up a device": the guide, the profile slot, the
  // step log and the tabs.
  ['devices-connected', 'devices', 'Devices', async (page) => {
    await page.click('.demo-chooser summary');
    await page.waitForSelector('.demo-chooser button');
    await page.$$eval('.demo-chooser button', (buttons) => buttons.find((b) => b.textContent.includes("CC:BA:97:0D:5E:01")).click());
    await page.waitForSelector('.connected-name', { timeout: 15_000 });
    await page.waitForFunction(() => document.querySelector('.slot[data-state="connected"]'), { timeout: 10_000 });
    await page.click('.demo-chooser summary'); // closed again, as a person leaves it
  }],
  ['decode', 'decode', 'Decode', async () => {}],
  // The encrypted example: the byte map with counter and MIC, and every table the page shows.
  ['decode-example', 'decode', 'Decode', async (page) => {
    await page.$$eval('.decode-examples button', (buttons) => buttons.find((b) => b.textContent.includes('Encrypted')).click());
    await page.waitForSelector('.byte-map button', { timeout: 10_000 });
    await page.hover('.byte-map button');
  }],
  ['about', 'about', 'About bluehome', async () => {}],
];

// WCAG 2.2 SC 1.4.12 (Text Spacing): line height 1.5, paragraph spacing 2 em, letter spacing
// 0.12 em, word spacing 0.16 em, as the Understanding document's test sets them.
const TEXT_SPACING =
  '* { line-height: 1.5 !important; letter-spacing: 0.12em !important; word-spacing: 0.16em !important; }' +
  ' p { margin-bottom: 2em !important; }';

const t = runner();
const browser = await launchChromium();

/** Runs axe-core in the page: its serious and critical violations, as sentences. */
async function axeProblems(page) {
  await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => (await window.axe.run(document, { resultTypes: ['violations'] })).violations);
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .flatMap((v) => v.nodes.map((n) => `axe ${v.impact} ${v.id}: ${n.target.join(' ')} (${v.help})`));
}

// The checker bites: each fault on a fixture page is reported, and a clean page passes.
{
  const page = await browser.newPage();
  await page.setViewport({ width: 390, height: 844 });
  const check = async (html) => {
    await page.setContent(`<!doctype html><html><body style="margin:0;font:16px sans-serif">${html}</body></html>`);
    return page.evaluate(layoutProblems);
  };
  await t.test('checker: a box that cuts its text off is reported', async () => {
    const problems = await check('<p style="width:80px;overflow:hidden;white-space:nowrap">humidity 40.34 %</p>');
    assert.equal(problems.length, 1, problems.join('\n'));
    assert.match(problems[0], /p "humidity 40.34 %" clips its content \(content \d+ px wide in 80 px\)/);
  });
  await t.test('checker: a fixed-height box that cuts lines off is reported', async () => {
    const problems = await check('<div style="width:120px;height:30px;overflow:hidden">Shelly BLU Door/Window open battery 100 %</div>');
    assert.equal(problems.length, 1, problems.join('\n'));
    assert.match(problems[0], /clips its content \(content \d+ px high in 30 px\)/);
  });
  await t.test('checker: an ellipsis is allowed only with the full text in a title', async () => {
    const style = 'width:80px;overflow:hidden;white-space:nowrap;text-overflow:ellipsis';
    assert.deepEqual(await check(`<p title="Shelly BLU H&amp;T" style="${style}">Shelly BLU H&amp;T</p>`), []);
    assert.equal((await check(`<p style="${style}">Shelly BLU H&amp;T</p>`)).length, 1);
  });
  await t.test('checker: overlapping texts and a chart over text are reported', async () => {
    const problems = await check(
      '<div style="position:relative;height:60px"><span style="position:absolute;left:0">temperature 21.5 °C</span>' +
        '<span style="position:absolute;left:40px">humidity 40 %</span></div>' +
        '<div style="position:relative"><span>battery 100 %</span><svg aria-label="history" style="position:absolute;left:10px;top:0;width:60px;height:20px"></svg></div>',
    );
    assert.equal(problems.length, 2, problems.join('\n'));
    assert.match(problems[0], /"temperature 21.5 °C" .* and "humidity 40 %" .* overlap/);
    assert.match(problems[1], /"battery 100 %" .* and "chart history" .* overlap/);
  });
  await t.test('checker: a page that scrolls sideways is reported', async () => {
    const problems = await check('<div style="width:600px">wide</div>');
    assert.deepEqual(problems, ['the document scrolls sideways: 600 px wide in a 390 px window']);
  });
  await t.test('checker: scroll areas, hidden-for-screen-reader text and wrapped text pass', async () => {
    const problems = await check(
      '<div style="height:40px;overflow-y:auto"><p>one</p><p>two</p><p>three</p></div>' +
        '<span style="position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)">for screen readers</span>' +
        '<p style="width:80px;overflow:hidden">Shelly BLU Door</p>' +
        '<details><summary>Filters</summary><p style="position:absolute;top:0">hidden while closed</p></details>',
    );
    assert.deepEqual(problems, []);
  });
  await page.close();
}

const server = await serveDist(dist, '/');
await mkdir(shots, { recursive: true });
const figures = { layout: 0, axe: 0 };
try {
  for (const [size, viewport] of VIEWPORTS) {
    for (const theme of THEMES) {
      for (const [name, path, title, settle] of PAGES) {
        await t.test(`${name} at ${size} size (${viewport.width}x${viewport.height}), ${theme} theme`, async () => {
          const page = await browser.newPage();
          const problems = watchPage(page);
          await page.setViewport(viewport);
          await page.emulateMediaFeatures([{ name: 'prefers-color-scheme', value: theme }]);
          await page.goto(`${server.url}${path}?demo`, { waitUntil: 'networkidle0' });
          await page.waitForFunction((h) => document.querySelector('main h1')?.textContent.trim() === h, { timeout: 15_000 }, title);
          await page.waitForSelector('main[aria-busy="false"]', { timeout: 10_000 });
          await settle(page);
          // The page's whole length; but the details on a phone are a sheet fixed to the window,
          // which a full-length picture would pin to the top: the window as a person sees it.
          const fullPage = !(name === 'scan-details' && size === 'phone');
          await page.screenshot({ path: join(shots, `${size}-${theme}-${name}.png`), fullPage });
          const layout = await page.evaluate(layoutProblems);
          const axe = await axeProblems(page);
          // A reader's own text spacing (WCAG 2.2 SC 1.4.12) loses nothing either. A constructed
          // style sheet, as the CSP refuses a <style> element.
          // Cards have one height, for the virtualised list: what each holds must fit in it.
          const cards = () =>
            page.$$eval('.device-row', (rows) => rows.map((r) => [r.offsetHeight, r.scrollHeight]));
          const spills = (measured) =>
            measured.filter(([height, content]) => content > height + 1).map(([h, c]) => `a card's content is ${c} px high in ${h} px`);
          const before = await cards();
          await page.evaluate((css) => {
            const sheet = new CSSStyleSheet();
            sheet.replaceSync(css);
            document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];
          }, TEXT_SPACING);
          await new Promise((r) => setTimeout(r, 200)); // the cards' height follows a frame later
          const after = await cards();
          const spaced = [...(await page.evaluate(layoutProblems)), ...spills(after)].map((p) => `with WCAG text spacing: ${p}`);
          layout.push(...spills(before));
          if (before.length > 0) assert.ok(after[0][0] > before[0][0], 'the cards grow with the text spacing');
          figures.layout += layout.length + spaced.length;
          figures.axe += axe.length;
          await page.close();
          assert.deepEqual([...layout, ...spaced, ...axe, ...problems], []);
        });
      }
    }
  }
} finally {
  await server.close();
}
console.log(`layout problems: ${figures.layout}, serious or critical axe violations: ${figures.axe}; pictures in ${shots}`);
await browser.close();
process.exit(t.finish());
