// bluehome's service worker: makes the app usable offline after the first visit.
// The release build (.ci/postbuild.mjs) copies this file to the app's root and fills in VERSION and
// ASSETS, so every build with different files is a new worker, which the page offers to activate.
const VERSION = "__BLUEHOME_VERSION__";
const ASSETS = ["__BLUEHOME_ASSETS__"];
const CACHE = `bluehome-${VERSION}`;

self.addEventListener("install", (event) => {
  // No skipWaiting here: a new version waits until the user chooses to reload.
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(ASSETS)));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith("bluehome-") && k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("message", (event) => {
  if (event.data === "activate-new-version") self.skipWaiting();
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET" || new URL(request.url).origin !== self.location.origin) return;
  if (request.mode === "navigate") {
    // Pages: the network when it answers (so a deep link gets the current app), else the cached app shell.
    event.respondWith(
      fetch(request).catch(() => caches.open(CACHE).then((cache) => cache.match("./index.html"))),
    );
    return;
  }
  // Assets carry content hashes in their names: the cached copy is always right.
  event.respondWith(caches.match(request).then((hit) => hit ?? fetch(request)));
});
