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
import { startSimulator } from './peripheral.mjs';

const dist = resolve(process.argv[2] ?? 'dist');
const bin = resolve(process.argv[3] ?? 'target/debug/bluehome');
const shots = resolve('tests/e2e/screenshots');
await mkdir(shots, { recursive: true });

const CCCD = '00002902-0000-1000-8000-00805f9b34fb';
const SHELLY_COMPANY = 0x0ba9;
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

/**
 * Emulates a device whose GATT operations the simulator `sim` answers; `ops` counts them.
 * A refused connection (a BLU device out of pairing mode) is answered as failed.
 */
async function emulate(cdp, sim, device, { manufacturerData, knownServiceUuids = [] }) {
  const { address, name } = device;
  await cdp.send('BluetoothEmulation.simulatePreconnectedPeripheral', {
    address,
    name,
    manufacturerData: manufacturerData ? [{ key: SHELLY_COMPANY, data: manufacturerData.toString('base64') }] : [],
    knownServiceUuids,
  });
  const names = new Map();
  for (const [serviceUuid, list] of Object.entries(device.services)) {
    const { serviceId } = await cdp.send('BluetoothEmulation.addService', { address, serviceUuid });
    for (const [char, characteristicUuid, properties] of list) {
      const { characteristicId } = await cdp.send('BluetoothEmulation.addCharacteristic', {
        serviceId,
        characteristicUuid,
        properties,
      });
      if (properties.notify) {
        await cdp.send('BluetoothEmulation.addDescriptor', { characteristicId, descriptorUuid: CCCD });
      }
      names.set(characteristicId, char);
    }
  }
  const ops = { read: 0, write: 0, subscribe: 0 };
  cdp.on('BluetoothEmulation.gattOperationReceived', async (event) => {
    if (event.address !== address) return;
    let code = 0;
    if (event.type === 'connection') {
      const answer = await sim.request({ op: 'connect', client: 'chromium' });
      code = answer.ok ? 0 : 0x0e;
    }
    await cdp.send('BluetoothEmulation.simulateGATTOperationResponse', { address, type: event.type, code });
  });
  cdp.on('BluetoothEmulation.characteristicOperationReceived', async (event) => {
    const char = names.get(event.characteristicId);
    if (!char) return;
    let answer = { ok: true };
    if (event.type === 'read') {
      ops.read += 1;
      answer = await sim.request({ op: 'read', char });
    } else if (event.type === 'write') {
      ops.write += 1;
      answer = await sim.request({ op: 'write', char, data: Buffer.from(event.data, 'base64').toString('hex') });
      if (event.writeType === 'write-without-response') return;
    } else {
      ops.subscribe += 1; // accepted; the emulation pushes nothing, so the page polls
    }
    await cdp.send('BluetoothEmulation.simulateCharacteristicOperationResponse', {
      characteristicId: event.characteristicId,
      type: event.type,
      code: answer.ok ? 0 : (answer.att ?? 0x0e),
      ...(event.type === 'read' && answer.ok ? { data: Buffer.from(answer.data ?? '', 'hex').toString('base64') } : {}),
    });
  });
  return {
    ops,
    async advertise({ rssi = -55 } = {}) {
      await cdp.send('BluetoothEmulation.simulateAdvertisement', {
        entry: {
          deviceAddress: address,
          rssi,
          scanRecord: {
            name,
            uuids: knownServiceUuids,
            appearance: 0,
            txPower: 0,
            manufacturerData: manufacturerData ? [{ key: SHELLY_COMPANY, data: manufacturerData.toString('base64') }] : [],
          },
        },
      });
    },
  };
}

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

const cdp = await browser.target().createCDPSession();
await cdp.send('BluetoothEmulation.enable', { state: 'powered-on', leSupported: true });
const bluDevice = await emulate(cdp, blu, BLU, { manufacturerData: bluMfd });
const improvDevice = await emulate(cdp, improv, IMPROV, { knownServiceUuids: [IMPROV_SERVICE] });

const page = await browser.newPage();
await page.setViewport({ width: 1100, height: 900 });
const consoleLines = [];
page.on('console', (msg) => consoleLines.push(`${msg.type()}: ${msg.text()}`));
page.on('pageerror', (err) => consoleLines.push(`pageerror: ${err.message}`));

let shot = 0;
const screenshot = (name) =>
  page.screenshot({ path: `${shots}/setup-${String(++shot).padStart(2, '0')}-${name}.png`, fullPage: true });
const button = (text) => page.locator(`button::-p-text(${text})`);
const mainText = () => page.$eval('main', (m) => m.innerText);
const waitText = (text, timeout = 15_000) =>
  page.waitForFunction((s) => document.querySelector('main')?.innerText.includes(s), { timeout }, text);

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

const access = await page.createCDPSession();
await access.send('DeviceAccess.enable');
let choice = null;
access.on('DeviceAccess.deviceRequestPrompted', (prompt) => {
  if (!choice || !prompt.devices.some((d) => d.id === choice.address)) return;
  const { address, resolve, reject } = choice;
  choice = null;
  access.send('DeviceAccess.selectPrompt', { id: prompt.id, deviceId: address }).then(resolve, reject);
});

async function choose(address) {
  const picked = new Promise((resolve, reject) => {
    choice = { address, resolve, reject };
    setTimeout(() => reject(new Error(`no chooser listed ${address} within 10 s`)), 10_000);
  });
  await button('Set up a device').click();
  await picked;
}

async function step(name, body) {
  await t.test(name, async () => {
    try {
      await body();
    } finally {
      await screenshot(name.replace(/[^a-z0-9]+/gi, '-').toLowerCase()).catch(() => {});
    }
  });
}

const idle = () => page.waitForFunction(() => !document.querySelector('.setup .busy'), { timeout: 30_000 });

try {
  await page.goto(`${server.url}devices`, { waitUntil: 'networkidle0' });

  await step('BLU: the chooser, the MAC from its advertisement, the settings it has', async () => {
    // The device keeps advertising (the page watches it to learn its MAC).
    const beacon = setInterval(() => bluDevice.advertise().catch(() => {}), 300);
    try {
      await choose(BLU.address);
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
    await page.waitForSelector('.setup-failure', { timeout: 20_000 });
    const failure = await page.$eval('.setup-failure', (f) => `${f.innerText} ${f.querySelector('code')?.textContent}`);
    assert.match(failure, /protected operation|paired link/, failure);
    assert.match(failure, /bluetoothctl/, failure);
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
    await choose(IMPROV.address);
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

  await t.test('the walk broke no Content-Security-Policy rule and threw no page error', async () => {
    const bad = consoleLines.filter((l) => /Content Security Policy|^pageerror/i.test(l));
    assert.deepEqual(bad, []);
  });
} finally {
  const code = t.finish();
  if (code !== 0) {
    console.log('--- page console ---');
    console.log(consoleLines.join('\n'));
    console.log('--- BLU simulator transcript (last 30 lines) ---');
    console.log(blu.transcript.slice(-30).join('\n'));
    console.log('--- Improv simulator transcript (last 30 lines) ---');
    console.log(improv.transcript.slice(-30).join('\n'));
  }
  await browser.close();
  await blu.stop();
  await improv.stop();
  await server.close();
  process.exit(code);
}
