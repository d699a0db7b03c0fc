// End to end in real Chromium: "Set up a device" with the release build's real Web Bluetooth code
// against two emulated devices (CDP BluetoothEmulation) whose GATT answers come from the project's
// simulators: a Shelly BLU Button1 (`bluehome sim blu --stdio`) and an Improv Wi-Fi device
// (`bluehome sim improv --stdio`). The BLU walk: the device in pairing mode; the chooser; the MAC
// learned from its Shelly manufacturer data (a watched advertisement); turning encryption on fails
// "not paired" on Linux and the page gives the Linux pairing steps; the walk pairs as the system's
// settings would (the simulator's `pair`) and the retry writes the passkey and reads the key, which
// the page shows and stores as the sensor's bind key with that MAC. The emulation cannot deliver
// service data, so the Scan page's decryption itself is checked by the browser tests
// (tests/setup_blu.rs); here the walk checks the key the page stored is the simulator's. The
// Improv walk: authorization by the device's button, a Wi-Fi scan, the credentials, provisioned
// (the emulation cannot push notifications: the page polls), the redirect link.
// Usage: node tests/e2e/setup.mjs [dist] [path/to/bluehome]
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { serveDist } from './serve.mjs';
import { launchChromium, runner } from './browser.mjs';
import { openWalk } from './walk.mjs';
import { emulate, emulation, startSimulator } from './peripheral.mjs';

const dist = resolve(process.argv[2] ?? 'dist');
const bin = resolve(process.argv[3] ?? 'target/debug/bluehome');
const shots = resolve('tests/e2e/screenshots');
await mkdir(shots, { recursive: true });

const BLU = {
  address: '3C:2E:F5:B1:00:01',
  name: 'SBBT-002C',
  services: {
    'de8a5aac-a99b-c315-0c80-60d4cbb51225': [
      ['factory_reset', 'b0a7e40f-2b87-49db-801c-eb3686a24bdb', { write: true }],
      ['passkey', '0ffb7104-860c-49ae-8989-1f946d5f6c03', { write: true }],
      ['encryption_key', 'eb0fb41b-af4b-4724-a6f9-974f55aba81a', { read: true }],
      ['beacon_mode', 'cb9e957e-952d-4761-a7e1-4416494a5bfa', { read: true, write: true }],
      ['buzzer_activate', '5b026510-4088-c297-46d8-be6c736a087b', { read: true, write: true }],
      ['buzzer_enabled', 'dd78bf35-7680-484e-ad86-1bc1e7738e14', { read: true, write: true }],
      ['multi_click_speed', '35c8a5e2-1cac-4b03-8386-eb6846a1776e', { read: true, write: true }],
    ],
    '0000180a-0000-1000-8000-00805f9b34fb': [
      ['firmware_revision', '00002a26-0000-1000-8000-00805f9b34fb', { read: true }],
    ],
  },
};
const IMPROV_SERVICE = '00467768-6228-2272-4663-277478268000';
const IMPROV = {
  address: '24:58:7C:1D:2E:3F',
  name: 'improv-sim',
  services: {
    [IMPROV_SERVICE]: [
      ['state', '00467768-6228-2272-4663-277478268001', { read: true, notify: true }],
      ['error', '00467768-6228-2272-4663-277478268002', { read: true, notify: true }],
      ['rpc_command', '00467768-6228-2272-4663-277478268003', { write: true }],
      ['rpc_result', '00467768-6228-2272-4663-277478268004', { read: true, notify: true }],
      ['capabilities', '00467768-6228-2272-4663-277478268005', { read: true }],
    ],
  },
};

const t = runner();
const server = await serveDist(dist, '/bluehome/');
const browser = await launchChromium();
const blu = startSimulator(bin, ['--mac', BLU.address], 'blu');
const improv = startSimulator(bin, [], 'improv');

// The BLU device's own advertisement (after its button is held: pairing mode) gives its Shelly
// manufacturer data: flags, model, MAC.
await blu.request({ op: 'press' });
const { advertisements } = await blu.request({ op: 'advertisements' });
const bluMfd = Buffer.from(advertisements.at(-1).manufacturer_data['2985'], 'hex');

const cdp = await emulation(browser);
const bluDevice = await emulate(cdp, blu, BLU, { manufacturerData: bluMfd });
const improvDevice = await emulate(cdp, improv, IMPROV, { knownServiceUuids: [IMPROV_SERVICE] });

const { page, button, mainText, waitText, fill, choose, step, checkPage, finish } =
  await openWalk(browser, t, { shots, prefix: 'setup-' });

// The busy line is a live region that stays on the page, empty when nothing runs.
const idle = () => page.waitForFunction(() => !document.querySelector('.setup .busy')?.textContent, { timeout: 30_000 });

try {
  await page.goto(`${server.url}devices`, { waitUntil: 'networkidle0' });

  await step('BLU: the chooser, the MAC from its advertisement, the settings it has', async () => {
    // The device keeps advertising (the page watches it to learn its MAC).
    const beacon = setInterval(() => bluDevice.advertise().catch(() => {}), 300);
    try {
      await choose(() => button('Set up a device').click(), BLU.address);
      await page.waitForSelector('.blu-flow', { timeout: 20_000 });
      await idle();
    } finally {
      clearInterval(beacon);
    }
    const text = await mainText();
    assert.match(text, /SBBT-002C/);
    assert.match(text, new RegExp(`MAC ${BLU.address}`));
    assert.match(text, /Beacon mode/i);
    assert.doesNotMatch(text, /sensitivity/i, 'only what the device has');
  });

  await step('BLU: turning encryption on needs pairing; the Linux steps are given', async () => {
    await fill('Passkey (up to 6 digits)', '123456');
    await button('Turn encryption on').click();
    // The panel stays on the page; its alert region fills (components/live.rs).
    await page.waitForSelector('.setup-failure > .failure-region:not(:empty)', { timeout: 20_000 });
    const failure = await page.$eval('.setup-failure', (f) => `${f.innerText} ${f.querySelector('code')?.textContent}`);
    assert.match(failure, /protected operation|paired link/, failure);
    // The commands name the sensor's address, which the page learnt from its advertisement.
    assert.ok(failure.includes(`bluetoothctl, then: scan on, pair ${BLU.address}, trust ${BLU.address})`), failure);
  });

  await step('BLU: paired in the system, the retry stores the key', async () => {
    // What pairing in the system's Bluetooth settings does to the device.
    const paired = await blu.request({ op: 'pair', client: 'chromium' });
    assert.ok(paired.ok, JSON.stringify(paired));
    await button('Retry').click();
    await page.waitForSelector('input.bind-key', { timeout: 20_000 });
    const shown = await page.$eval('input.bind-key', (i) => i.value);
    const { data } = await blu.request({ op: 'read', char: 'encryption_key' });
    assert.equal(shown, data, 'the key shown is the device\'s');
    assert.match(await mainText(), /Stored as this sensor's bind key/);
    const stored = await page.evaluate(() => JSON.stringify({ ...localStorage }));
    assert.ok(stored.includes(data), 'the key is in the app\'s one bind-key store');
    assert.ok(stored.toUpperCase().includes(BLU.address), 'with the MAC from the advertisement');
    console.log(`BLU GATT operations seen by the emulated device: ${JSON.stringify(bluDevice.ops)}`);
  });

  await step('Improv: authorize, scan, send, provisioned, redirect link', async () => {
    await improvDevice.advertise();
    await choose(() => button('Set up a device').click(), IMPROV.address);
    await page.waitForSelector('.improv-flow', { timeout: 20_000 });
    await waitText('Press the button on the device', 20_000);
    await improv.request({ op: 'press' });
    await idle();
    await button('Scan for networks').click();
    await page.waitForSelector('.improv-networks button', { timeout: 30_000 });
    await page.locator('.improv-networks button::-p-text(HomeNet)').click();
    await fill('Wi-Fi password', 'correct horse');
    await button('Connect to Wi-Fi').click();
    await page.waitForSelector('.improv-done', { timeout: 60_000 });
    const href = await page.$eval('.improv-done a', (a) => a.getAttribute('href'));
    assert.equal(href, 'http://192.168.1.43/');
    console.log(`Improv GATT operations seen by the emulated device: ${JSON.stringify(improvDevice.ops)}`);
  });

  await checkPage();
} finally {
  const code = finish([
    ['BLU simulator transcript', blu, 30],
    ['Improv simulator transcript', improv, 30],
  ]);
  await browser.close();
  await blu.stop();
  await improv.stop();
  await server.close();
  process.exit(code);
}
