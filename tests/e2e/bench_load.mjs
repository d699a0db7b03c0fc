// Load benchmark of the release build (`make bench`; figures printed, nothing asserted but that the
// page becomes usable). dist/ is served gzip -9 compressed on loopback under a sub-path, as a static
// host would, and opened in headless Chromium with a fresh profile under Slow 4G (150 ms latency,
// 1.6 Mbit/s down, 750 kbit/s up: CDP Network.emulateNetworkConditions, for the page and for its
// service worker) and a CPU slowed 4x (CDP Emulation.setCPUThrottlingRate).
//
// One run: the first visit, until the Scan page is usable (its heading and the "Try the demo" or
// "Scan nearby" button rendered and enabled) and until it is complete (the device list, which is a
// part of its own, rendered too); then, once the service worker has cached the app and controls the
// page, a repeat visit in a new tab. Three runs, each in a new browser with a new profile; the
// medians are printed, with every run's figures.
//
// Bytes are what came over the network: until usable, the encoded size (headers included) of every
// response the page received from the network; for the whole first visit, everything the server
// sent until the service worker had cached the app and controlled the page ("offline-ready"); for
// the repeat visit, everything the server sent until usable (the page comes from the service
// worker's cache, so that is the navigation, which the worker forwards to the network, and the
// worker's update check). The server sends `cache-control: no-store`, so the service worker's
// precache fetches again what the page already has: the worst case of a static host.
//
// Usage: node tests/e2e/bench_load.mjs [dist] [runs]
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { serveDist } from './serve.mjs';
import { launchChromium } from './browser.mjs';

const dist = resolve(process.argv[2] ?? 'dist');
const RUNS = Number(process.argv[3] ?? 3);
const PREFIX = '/bluehome/';
/** Slow 4G, in CDP's units (bytes per second, milliseconds). */
const SLOW_4G = { offline: false, latency: 150, downloadThroughput: 1.6e6 / 8, uploadThroughput: 750e3 / 8 };
const CPU_SLOWDOWN = 4;
const TIMEOUT_MS = 120_000;

/**
 * Runs in the page before anything else: notes when the Scan page first becomes usable, and when it
 * is complete (its device list, filters and timeline, a part of their own, rendered too).
 */
function watchUsable() {
  const usable = () =>
    document.querySelector('main h1')?.textContent.trim() === 'Scan' &&
    [...document.querySelectorAll('main button')].some(
      (b) => /^(Try the demo|Scan nearby)$/.test(b.textContent.trim()) && !b.disabled,
    );
  const complete = () => document.querySelector('main .scan-layout') !== null;
  const seen = { usable: false, complete: false };
  const check = () => {
    for (const [name, holds] of [['usable', usable], ['complete', complete]]) {
      if (seen[name] || !holds()) continue;
      seen[name] = true;
      // Rendered means painted: take the time at the next frame.
      requestAnimationFrame(() => window.__benchSeen(name, performance.now()));
    }
  };
  new MutationObserver(check).observe(document, { subtree: true, childList: true, attributes: true, characterData: true });
}

/**
 * Counts the network bytes one CDP session sees (a response from a service worker or a cache is not
 * network). Listens at once; resolves when the session's Network domain is on.
 */
function meter(session) {
  const requests = new Map();
  const m = { bytes: 0, urls: [], inFlight: () => requests.size };
  session.on('Network.requestWillBeSent', (e) => requests.set(e.requestId, { url: e.request.url, network: true }));
  session.on('Network.requestServedFromCache', (e) => {
    const r = requests.get(e.requestId);
    if (r) r.network = false;
  });
  session.on('Network.responseReceived', (e) => {
    const r = requests.get(e.requestId);
    if (r && (e.response.fromServiceWorker || e.response.fromDiskCache || e.response.fromPrefetchCache)) r.network = false;
  });
  session.on('Network.loadingFinished', (e) => {
    const r = requests.get(e.requestId);
    requests.delete(e.requestId);
    if (r?.network) {
      m.bytes += e.encodedDataLength;
      m.urls.push(r.url);
    }
  });
  session.on('Network.loadingFailed', (e) => requests.delete(e.requestId));
  m.ready = session.send('Network.enable');
  return m;
}

/** Slows a CDP session's network (and, for a page, its CPU) as a phone on Slow 4G. */
async function throttle(session, { cpu }) {
  await session.send('Network.enable');
  await session.send('Network.emulateNetworkConditions', SLOW_4G);
  if (cpu) await session.send('Emulation.setCPUThrottlingRate', { rate: CPU_SLOWDOWN });
}

/**
 * Slows every service worker's network from its start, like the page's: a phone has one link, which
 * the worker's precache shares with the page. Returns the meters of the workers seen.
 */
async function throttleServiceWorkers(browser) {
  const root = await browser.target().createCDPSession();
  const meters = [];
  root.on('Target.attachedToTarget', async ({ sessionId, waitingForDebugger }) => {
    const session = root.connection().session(sessionId);
    meters.push(meter(session));
    try {
      await throttle(session, { cpu: false });
    } finally {
      if (waitingForDebugger) await session.send('Runtime.runIfWaitingForDebugger').catch(() => {});
    }
  });
  await root.send('Target.setAutoAttach', {
    autoAttach: true,
    waitForDebuggerOnStart: true,
    flatten: true,
    filter: [{ type: 'service_worker' }],
  });
  return meters;
}

/** Opens `url` in a new tab of `browser`; resolves when the Scan page is usable. */
async function visit(browser, url) {
  const page = await browser.newPage();
  const session = await page.createCDPSession();
  const network = meter(session);
  await network.ready;
  await throttle(session, { cpu: true });
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  let resolveUsable;
  let resolveComplete;
  const usable = new Promise((r) => (resolveUsable = r));
  const complete = new Promise((r) => (resolveComplete = r));
  await page.exposeFunction('__benchSeen', (name, ms) =>
    name === 'usable' ? resolveUsable({ ms, bytes: network.bytes, pending: network.inFlight() }) : resolveComplete(ms),
  );
  await page.evaluateOnNewDocument(watchUsable);
  const timeout = new Promise((_, reject) =>
    setTimeout(() => reject(new Error(`not usable after ${TIMEOUT_MS} ms: ${errors.join('; ') || 'no page error'}`)), TIMEOUT_MS),
  );
  page.goto(url, { timeout: TIMEOUT_MS }).catch(() => {});
  const result = await Promise.race([usable, timeout]);
  const completeMs = await Promise.race([complete, timeout]);
  return { page, network, completeMs, ...result };
}

/**
 * Waits until a service worker controls the page and has cached the app (it is active once its
 * install cached everything); resolves to that moment, in ms since the navigation started.
 */
function offlineReady(page) {
  return page.evaluate(async () => {
    await navigator.serviceWorker.ready;
    if (!navigator.serviceWorker.controller) {
      await new Promise((r) => navigator.serviceWorker.addEventListener('controllerchange', r, { once: true }));
    }
    return performance.now();
  });
}

async function run(server, index) {
  const profile = await mkdtemp(join(tmpdir(), 'bluehome-bench-'));
  const browser = await launchChromium({ userDataDir: profile, webBluetooth: false });
  try {
    const workers = await throttleServiceWorkers(browser);
    server.counter.reset();
    const first = await visit(browser, server.url);
    const offlineMs = await offlineReady(first.page);
    const firstTotal = server.counter.bytes;
    await first.page.close();

    server.counter.reset();
    const repeat = await visit(browser, server.url);
    const repeatBytes = server.counter.bytes;
    await repeat.page.close();
    // The repeat visit's navigation goes through the worker to the network: it must have been slowed.
    if (!workers.some((w) => w.urls.includes(server.url))) {
      throw new Error('no slowed service worker forwarded the repeat visit: its figures would be too good');
    }
    const figures = {
      firstMs: first.ms,
      firstCompleteMs: first.completeMs,
      firstBytes: first.bytes,
      offlineMs,
      firstTotal,
      repeatMs: repeat.ms,
      repeatBytes,
    };
    console.log(
      `run ${index + 1}: first visit usable after ${ms(first.ms)}, ${kb(first.bytes)} ` +
        `(${first.network.urls.length} responses${first.pending ? `, ${first.pending} more under way` : ''}), ` +
        `complete after ${ms(first.completeMs)}; ` +
        `offline-ready after ${ms(offlineMs)}, ${kb(firstTotal)} in all; repeat visit usable after ${ms(repeat.ms)}, ${kb(repeatBytes)}`,
    );
    return figures;
  } finally {
    await browser.close();
    await rm(profile, { recursive: true, force: true });
  }
}

const kb = (bytes) => `${(bytes / 1024).toFixed(1)} KB`;
const ms = (t) => `${(t / 1000).toFixed(2)} s`;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const server = await serveDist(dist, PREFIX, { gzip: true });
try {
  console.log(
    `Slow 4G (${SLOW_4G.latency} ms, ${(SLOW_4G.downloadThroughput * 8) / 1e6} Mbit/s down, ` +
      `${(SLOW_4G.uploadThroughput * 8) / 1e3} kbit/s up), CPU ${CPU_SLOWDOWN}x slower, dist/ gzip -9 at ${PREFIX}`,
  );
  const runs = [];
  for (let i = 0; i < RUNS; i++) runs.push(await run(server, i));
  const pick = (key) => median(runs.map((r) => r[key]));
  console.log(`first visit:  usable after ${ms(pick('firstMs'))}, ${kb(pick('firstBytes'))} transferred until then (median of ${RUNS})`);
  console.log(`              the whole Scan page after ${ms(pick('firstCompleteMs'))}`);
  console.log(`              offline-ready after ${ms(pick('offlineMs'))}, ${kb(pick('firstTotal'))} transferred in all (the service worker's precache included)`);
  console.log(`repeat visit: usable after ${ms(pick('repeatMs'))}, ${kb(pick('repeatBytes'))} transferred (median of ${RUNS})`);
} finally {
  await server.close();
}
