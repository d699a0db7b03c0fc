// An emulated Shelly device for the end-to-end tests: Chromium's CDP BluetoothEmulation plays the
// radio, and every GATT read and write is answered by the project's one simulator, the
// `bluehome sim shelly --stdio` process (crates/bluehome-cli/README.md documents its protocol).
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

export const SHELLY = {
  service: '5f6d4f53-5f52-5043-5f53-56435f49445f',
  data: '5f6d4f53-5f52-5043-5f64-6174615f5f5f',
  tx_ctl: '5f6d4f53-5f52-5043-5f74-785f63746c5f',
  rx_ctl: '5f6d4f53-5f52-5043-5f72-785f63746c5f',
  company: 0x0ba9,
};
const CCCD = '00002902-0000-1000-8000-00805f9b34fb';

/**
 * A simulator (`bluehome sim <kind> --stdio`, kind `shelly`, `blu` or `improv`) as a child process:
 * `request(obj)` sends one line and resolves to its one answer.
 */
export function startSimulator(bin, args = [], kind = 'shelly') {
  const child = spawn(bin, ['sim', kind, '--stdio', ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout });
  const waiting = [];
  const transcript = [];
  lines.on('line', (line) => {
    transcript.push(`<- ${line}`);
    const next = waiting.shift();
    if (next) next.resolve(JSON.parse(line));
  });
  child.on('exit', (code) => {
    for (const w of waiting.splice(0)) w.reject(new Error(`simulator exited (${code})`));
  });
  // One request at a time, in order: the protocol answers each line with exactly one line.
  let chain = Promise.resolve();
  const request = (message) => {
    const result = chain.then(
      () =>
        new Promise((resolve, reject) => {
          waiting.push({ resolve, reject });
          const line = JSON.stringify(message);
          transcript.push(`-> ${line}`);
          child.stdin.write(`${line}\n`);
        }),
    );
    chain = result.catch(() => {});
    return result;
  };
  const stop = () =>
    new Promise((resolve) => {
      child.once('exit', resolve);
      child.stdin.end();
    });
  return { request, stop, transcript };
}

/**
 * Emulates one Shelly device at `address` in `browser`, backed by `sim`.
 * `manufacturerData` is the 0x0BA9 payload (without the company id) as a Buffer.
 */
export async function emulateShelly(browser, sim, { address, name, manufacturerData }) {
  const cdp = await browser.target().createCDPSession(); // BluetoothEmulation is a browser-level domain
  await cdp.send('BluetoothEmulation.enable', { state: 'powered-on', leSupported: true });
  await cdp.send('BluetoothEmulation.simulatePreconnectedPeripheral', {
    address,
    name,
    manufacturerData: [{ key: SHELLY.company, data: manufacturerData.toString('base64') }],
    knownServiceUuids: [SHELLY.service],
  });
  const { serviceId } = await cdp.send('BluetoothEmulation.addService', { address, serviceUuid: SHELLY.service });
  const characteristics = new Map();
  for (const [char, properties] of [
    ['data', { read: true, write: true }],
    ['tx_ctl', { write: true }],
    ['rx_ctl', { read: true, notify: true }],
  ]) {
    const { characteristicId } = await cdp.send('BluetoothEmulation.addCharacteristic', {
      serviceId,
      characteristicUuid: SHELLY[char],
      properties,
    });
    if (properties.notify) {
      await cdp.send('BluetoothEmulation.addDescriptor', { characteristicId, descriptorUuid: CCCD });
    }
    characteristics.set(characteristicId, char);
  }

  // While `holding`, connection requests get no answer: Chrome's connect() then never settles,
  // as it can on macOS for a device that is not there. The emulation answers requests oldest
  // first, so the held ones are answered (as failed) when holding ends.
  let holding = false;
  let held = 0;
  cdp.on('BluetoothEmulation.gattOperationReceived', async (event) => {
    if (event.type === 'connection' && holding) {
      held += 1;
      return;
    }
    if (event.type === 'connection') await sim.request({ op: 'connect', client: 'chromium' });
    await cdp.send('BluetoothEmulation.simulateGATTOperationResponse', { address, type: event.type, code: 0 });
  });
  cdp.on('BluetoothEmulation.characteristicOperationReceived', async (event) => {
    const char = characteristics.get(event.characteristicId);
    let answer = { ok: true };
    if (event.type === 'read') {
      answer = await sim.request({ op: 'read', char });
    } else if (event.type === 'write') {
      const data = Buffer.from(event.data, 'base64').toString('hex');
      answer = await sim.request({ op: 'write', char, data });
      if (event.writeType === 'write-without-response') return;
    } else {
      answer = { ok: true }; // subscribe / unsubscribe to notifications: accepted, nothing is ever pushed
    }
    await cdp.send('BluetoothEmulation.simulateCharacteristicOperationResponse', {
      characteristicId: event.characteristicId,
      type: event.type,
      code: answer.ok ? 0 : (answer.att ?? 0x0e),
      ...(event.type === 'read' && answer.ok ? { data: Buffer.from(answer.data ?? '', 'hex').toString('base64') } : {}),
    });
  });

  return {
    cdp,
    /** Leaves connection requests unanswered (true), or answers them again (false). */
    async holdConnections(hold) {
      holding = hold;
      for (; !hold && held > 0; held -= 1) {
        // 0x0e: "unlikely error", for an attempt the page gave up long ago.
        await cdp.send('BluetoothEmulation.simulateGATTOperationResponse', { address, type: 'connection', code: 0x0e });
      }
    },
    /** Drops the link, as walking out of range does. */
    async disconnect() {
      await sim.request({ op: 'disconnect' });
      await cdp.send('BluetoothEmulation.simulateGATTDisconnection', { address });
    },
    /** One advertisement from this device (appearance and txPower are required, else Chromium crashes). */
    async advertise({ rssi = -60, manufacturer = manufacturerData, txPower = 0 } = {}) {
      await cdp.send('BluetoothEmulation.simulateAdvertisement', {
        entry: {
          deviceAddress: address,
          rssi,
          scanRecord: {
            name,
            uuids: [SHELLY.service],
            appearance: 0,
            txPower,
            manufacturerData: [{ key: SHELLY.company, data: manufacturer.toString('base64') }],
          },
        },
      });
    },
  };
}
