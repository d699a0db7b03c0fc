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

/** A Shelly RPC device's GATT services, in the form `emulate` takes. */
export function shellyServices() {
  return {
    [SHELLY.service]: [
      ['data', SHELLY.data, { read: true, write: true }],
      ['tx_ctl', SHELLY.tx_ctl, { write: true }],
      ['rx_ctl', SHELLY.rx_ctl, { read: true, notify: true }],
    ],
  };
}

/**
 * Emulates one Shelly RPC device at `address` in `browser`, backed by `sim`.
 * `manufacturerData` is the 0x0BA9 payload (without the company id) as a Buffer.
 */
export async function emulateShelly(browser, sim, { address, name, manufacturerData }) {
  const cdp = await emulation(browser);
  const device = { address, name, services: shellyServices() };
  return emulate(cdp, sim, device, { manufacturerData, knownServiceUuids: [SHELLY.service] });
}

/** Chromium's Bluetooth emulation, powered on (a browser-level CDP domain). */
export async function emulation(browser) {
  const cdp = await browser.target().createCDPSession();
  await cdp.send('BluetoothEmulation.enable', { state: 'powered-on', leSupported: true });
  return cdp;
}

/**
 * Emulates `device` ({ address, name, services: { serviceUuid: [[name, uuid, properties]] } }) on
 * the emulation `cdp`; the simulator `sim` answers its connections, reads and writes by the
 * characteristic's name. `manufacturerData` (a Buffer, Shelly's company id) and
 * `knownServiceUuids` go into its advertisement. A connection the simulator refuses (a BLU device
 * out of pairing mode) is answered as failed. `ops` counts the GATT operations seen.
 */
export async function emulate(cdp, sim, device, { manufacturerData, knownServiceUuids = [] }) {
  const { address, name } = device;
  const shellyData = (data) => (data ? [{ key: SHELLY.company, data: data.toString('base64') }] : []);
  await cdp.send('BluetoothEmulation.simulatePreconnectedPeripheral', {
    address,
    name,
    manufacturerData: shellyData(manufacturerData),
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

  // While `holding`, connection requests get no answer: Chrome's connect() then never settles,
  // as it can on macOS for a device that is not there. The emulation answers requests oldest
  // first, so the held ones are answered (as failed) when holding ends.
  let holding = false;
  let held = 0;
  cdp.on('BluetoothEmulation.gattOperationReceived', async (event) => {
    if (event.address !== address) return;
    if (event.type === 'connection' && holding) {
      held += 1;
      return;
    }
    let code = 0;
    if (event.type === 'connection') {
      const answer = await sim.request({ op: 'connect', client: 'chromium' });
      code = answer.ok ? 0 : 0x0e;
    }
    await cdp.send('BluetoothEmulation.simulateGATTOperationResponse', { address, type: event.type, code });
  });
  const ops = { read: 0, write: 0, subscribe: 0 };
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
    cdp,
    ops,
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
            uuids: knownServiceUuids,
            appearance: 0,
            txPower,
            manufacturerData: shellyData(manufacturer),
          },
        },
      });
    },
  };
}
