// End to end in real Chromium: the release build's real Web Bluetooth code path against an emulated
// Shelly gateway (CDP BluetoothEmulation) whose GATT answers come from `bluehome sim shelly --stdio`.
// A person's walk through the app: first, a click made while the store's part is still on its way
// (held back) waits for it and still opens the chooser; connect (the first attempt never settles, as
// Chrome's connect() can on macOS: the page gives up after 15 s and the retry connects); set a
// password, reconnect and
// answer the auth challenge; provision Wi-Fi; list and delete a pairing; discover and add a BTHome
// device with two sensors on the gateway (the gateway learns the new device's objects only when it
// sends again: the page says to press its button, and the walk presses it); watch a chosen device's
// advertisements arrive on the Scan page; switch to another tab and back (Chrome ends every watch of
// a hidden page) and see them arrive again; clear the device's profile, which revokes the page's
// permission for it. The simulator runs with its firmware-faithful defaults. Each step is
// screenshotted (tests/e2e/screenshots/); on failure the page console is printed.
// Usage: node tests/e2e/shelly.mjs [dist] [path/to/bluehome]
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { serveDist } from './serve.mjs';
import { launchChromium, runner } from './browser.mjs';
import { openWalk } from './walk.mjs';
import { emulateShelly, startSimulator } from './peripheral.mjs';

const dist = resolve(process.argv[2] ?? 'dist');
const bin = resolve(process.argv[3] ?? 'target/debug/bluehome');
const shots = resolve('tests/e2e/screenshots');
await mkdir(shots, { recursive: true });

const GATEWAY = 'CC:BA:97:0D:5E:01';
const BONDS = ['11:22:33:44:55:66', '22:33:44:55:66:77'];
const PASSWORD = 'tr0ub4dor&3';

const t = runner();
const server = await serveDist(dist, '/bluehome/');
const browser = await launchChromium();
const sim = startSimulator(bin, ['--mac', GATEWAY, '--sensors', 'ht,dw,button', ...BONDS.flatMap((b) => ['--bond', b])]);

// The gateway's own advertisement, from the simulator: its Shelly manufacturer data (flags, MAC, model).
const { advertisements } = await sim.request({ op: 'advertisements', include_gateway: true });
const own = advertisements.find((a) => (a.address ?? '').toUpperCase() === GATEWAY) ?? advertisements.at(-1);
const manufacturerData = Buffer.from(own.manufacturer_data['2985'], 'hex');
// Gen3/Gen4 firmware advertises its MAC as its local name (Home Assistant's Shelly config flow,
// `_get_name_from_mac_and_ble_model`): the page names it by the model in its manufacturer data.
const peripheral = await emulateShelly(browser, sim, { address: GATEWAY, name: GATEWAY, manufacturerData });

const { page, button, mainText, waitText, fill, choose, step, checkPage, finish } =
  await openWalk(browser, t, { shots, prefix: '' });

async function connectWithChooser() {
  await choose(() => button('Set up a device').click(), GATEWAY);
}

const tab = (label) => page.locator(`[role="tab"]::-p-text(${label})`).click();

try {
  await step("a click made before the store's part has arrived waits for it, and the chooser still opens", async () => {
    // The split build's first module has the Scan page's buttons; the store's code is a part of its
    // own. Hold that part back on the first visit, click "Watch a sensor…" while it is missing, then
    // let it arrive: the click must still count (Chrome wants a user gesture for the chooser).
    await page.setRequestInterception(true);
    let release;
    const released = new Promise((r) => (release = r));
    let held = 0;
    const hold = (request) => {
      if (/\/split_store_[^/]*\.wasm$/.test(request.url())) {
        held += 1;
        released.then(() => request.continue());
      } else {
        request.continue();
      }
    };
    page.on('request', hold);
    try {
      await page.goto(server.url, { waitUntil: 'domcontentloaded' });
      await button('Watch a sensor').wait();
      const chosen = choose(() => button('Watch a sensor').click(), GATEWAY);
      await new Promise((r) => setTimeout(r, 1_500));
      assert.equal(held, 1, "the store's part was asked for and held");
      assert.equal(await page.$$eval('ul.watched li', (l) => l.length), 0, 'nothing is watched before the part arrives');
      release();
      await chosen;
      await page.waitForSelector('ul.watched li', { timeout: 10_000 });
    } finally {
      release();
      await new Promise((r) => setTimeout(r, 100));
      page.off('request', hold);
      await page.setRequestInterception(false);
    }
  });

  // Through the app's own link: a new document would end Chromium's Bluetooth emulation.
  await page.locator('nav a::-p-text(Devices)').click();
  await button('Set up a device').wait();

  await step('a connect that never settles is given up, and the retry connects', async () => {
    await peripheral.holdConnections(true);
    await connectWithChooser();
    await waitText('The device did not answer', 25_000);
    const detail = await page.$eval('.failure code', (c) => c.textContent);
    assert.match(detail, /within 15 s; the page gave up on it/);
    await peripheral.holdConnections(false);
    await button('Retry').click();
    await page.waitForSelector('.connected-name', { timeout: 20_000 });
    const connectedName = await page.$eval('.connected-name', (e) => e.textContent);
    assert.match(connectedName, /Shelly BLU Gateway Gen3/, 'named by its model, not its MAC-as-name');
    await tab('Device');
    await waitText('shellyblugwg3');
  });

  await step('set a password', async () => {
    await tab('Password & name');
    await fill('New password', PASSWORD);
    await fill('Repeat it', PASSWORD);
    await button('Set password').click();
    // The busy lines are live regions that stay on the page, empty when nothing runs.
    await page.waitForFunction(() => ![...document.querySelectorAll('.busy')].some((b) => b.textContent), { timeout: 15_000 });
    assert.doesNotMatch(await mainText(), /failed/i);
  });

  await step('reconnect and answer the auth challenge', async () => {
    await button('Disconnect').click();
    await page.waitForSelector('.connected-name', { hidden: true });
    await connectWithChooser();
    await page.waitForSelector('.password-form', { timeout: 20_000 });
    await fill('Device password (user admin)', PASSWORD);
    // The retry connects to the device already chosen: no chooser this time (an unanswered
    // chooser would leave the page waiting, and this step would time out).
    await button('Send password and retry').click();
    await page.waitForSelector('.connected-name', { timeout: 20_000 });
    assert.ok(!(await mainText()).includes(PASSWORD), 'the password is never shown');
  });

  await step('provision Wi-Fi', async () => {
    await tab('Wi-Fi');
    await button('Scan for networks').click();
    await page.locator('button.network::-p-text(HomeNet)').click();
    await fill('Wi-Fi password', 'correct horse');
    const acknowledge = await page.$('.shelly-wifi .notice.warning input[type="checkbox"]');
    if (acknowledge) await acknowledge.click();
    await page.locator('.shelly-wifi button.primary::-p-text(Apply)').click();
    await waitText('Connected to Wi-Fi with address 192.168.1.42', 30_000);
  });

  await step('list and delete a pairing', async () => {
    await tab('Bluetooth');
    await button('Read Bluetooth settings and paired devices').click();
    await waitText('Paired devices (2 of 20)');
    const before = await page.$$eval('ul.paired code', (els) => els.map((e) => e.textContent.toUpperCase()));
    assert.deepEqual(before.sort(), [...BONDS].sort());
    await page.locator('ul.paired li:first-child button::-p-text(Delete)').click();
    await waitText('Paired devices (1 of 20)');
  });

  await step('add a BTHome device and two sensors on the gateway', async () => {
    await tab('BTHome gateway');
    await fill('Discovery seconds (1 to 120)', '3');
    await button('Discover devices').click();
    await page.waitForSelector('button.discovered-device', { timeout: 20_000 });
    await page.locator('button.discovered-device').click();
    await fill('Name', 'Kitchen H&T');
    // Picked, the address reads as the page writes addresses; the gateway is sent lower case.
    const addr = await page.$eval('input[placeholder="AA:BB:CC:DD:EE:FF"]', (i) => i.value);
    assert.match(addr, /^([0-9A-F]{2}:){5}[0-9A-F]{2}$/);
    await button('Add device').click();
    // The gateway has not heard the device since it was added: the page waits and says what to do.
    await waitText("Press the device's button", 20_000);
    await sim.request({ op: 'press', addr });
    await page.waitForSelector('fieldset.objects input[type="checkbox"]', { timeout: 20_000 });
    const boxes = await page.$$('fieldset.objects input[type="checkbox"]');
    assert.ok(boxes.length >= 2, `known objects offered: ${boxes.length}`);
    for (const box of boxes.slice(0, 2)) {
      if (!(await box.evaluate((b) => b.checked))) await box.click();
    }
    await button('Add selected sensors').click();
    await page.waitForFunction(() => document.querySelectorAll('ul.bthome-sensors li').length >= 2, { timeout: 20_000 });
    assert.match(await mainText(), /Kitchen H&T/);
  });

  await step('watch advertisements of a chosen device on the Scan page', async () => {
    await page.locator('nav a::-p-text(Scan)').click();
    await choose(() => button('Watch a sensor').click(), GATEWAY);
    for (const rssi of [-61, -58, -55]) {
      await peripheral.advertise({ rssi });
      await new Promise((r) => setTimeout(r, 300));
    }
    await page.waitForFunction(() => /-55/.test(document.querySelector('main')?.innerText ?? ''), { timeout: 15_000 });
    assert.match(await mainText(), /Shelly BLU Gateway Gen3/);
  });

  await step('watching resumes after the page was hidden behind another tab', async () => {
    const other = await browser.newPage();
    await other.bringToFront();
    await page.waitForFunction(() => document.visibilityState === 'hidden', { timeout: 5_000 });
    // Chrome ends the page's watches now, and leaves watchingAdvertisements true.
    await peripheral.advertise({ rssi: -71 });
    await new Promise((r) => setTimeout(r, 500));
    await page.bringToFront();
    await other.close();
    await page.waitForFunction(() => document.visibilityState === 'visible' && document.hasFocus(), { timeout: 5_000 });
    // The app re-arms the watch on its own; keep advertising until a packet gets through.
    const seen = () => page.evaluate(() => /-49 dBm/.test(document.querySelector('main')?.innerText ?? ''));
    for (let i = 0; i < 20 && !(await seen()); i++) {
      await peripheral.advertise({ rssi: -49 });
      await new Promise((r) => setTimeout(r, 300));
    }
    assert.ok(await seen(), 'no advertisement arrived after the page came back');
    assert.equal((await page.$$('ul.watched li')).length, 1, 'the device is still listed as watched');
  });

  await step("clearing the device's profile revokes the page's permission for it", async () => {
    const permitted = () => page.evaluate(async () => (await navigator.bluetooth.getDevices()).map((d) => d.name));
    assert.ok((await permitted()).includes(GATEWAY));
    await page.locator('nav a::-p-text(Devices)').click();
    await button('Clear this profile').click();
    await page.waitForFunction(
      async (name) => !(await navigator.bluetooth.getDevices()).some((d) => d.name === name),
      { timeout: 10_000, polling: 200 },
      GATEWAY,
    );
    assert.doesNotMatch(await mainText(), /still lets this page/);
  });

  await checkPage();
} finally {
  const code = finish([['simulator transcript', sim, 40]]);
  await browser.close();
  await sim.stop();
  await server.close();
  process.exit(code);
}
