// bluehome's service worker: makes the app usable offline after the first visit.
// The release build (.ci/postbuild.mjs) copies this file to the app's root and fills in VERSION and
// ASSETS, so every build with different files is a new worker, which the page offers to activate.
const VERSION = "__BLUEHOME_VERSION__";
const ASSETS = ["__BLUEHOME_ASSETS__"];
const CACHE = `bluehome-${VERSION}`;

self.addEventListener("install", (event) => {
  // No skipWaiting here: a new version waits until the user chooses to reload.
  // `cache: "reload"` goes past the HTTP cache: a host's max-age (or a heuristic freshness) would
  // otherwise store the previous deploy's index.html, pointing at code no cache holds.
  const fresh = ASSETS.map((url) => new Request(url, { cache: "reload" }));
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(fresh)));
});

self.addEventListener("activate", (event) => {
  // The version before stays: another window may still run it and load its parts on first use.
  // `caches.keys()` lists caches in the order they were made (Service Worker spec, CacheStorage).
  event.waitUntil(
    caches
      .keys()
      .then((keys) => {
        const older = keys.filter((k) => k.startsWith("bluehome-") && k !== CACHE);
        return Promise.all(older.slice(0, -1).map((k) => caches.delete(k)));
      })
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
    // Pages: the network when it answers (so a deep link gets the current app), else the cached app
    // shell; also when the host answers 404 with its own page (a sub-path on a host whose 404.html
    // is the site's, not the app's), so deep links work after the first visit.
    const shell = () => caches.open(CACHE).then((cache) => cache.match("./index.html"));
    event.respondWith(
      fetch(request)
        .then((response) => (response.status === 404 ? shell().then((page) => page ?? response) : response))
        .catch(shell),
    );
    return;
  }
  // Assets carry content hashes in their names: a copy in any of bluehome's caches is right (an
  // older one serves a window still on that version). Only its own caches: another app on the same
  // origin may keep caches of its own.
  event.respondWith(cached(request).then((hit) => hit ?? fetch(request)));
});

/** `request` from bluehome's caches, newest first; undefined when none holds it. */
function cached(request) {
  return caches.keys().then((keys) =>
    keys
      .filter((k) => k.startsWith("bluehome-"))
      .reverse()
      .reduce(
        (found, key) => found.then((hit) => hit ?? caches.open(key).then((cache) => cache.match(request))),
        Promise.resolve(undefined),
      ),
  );
}
