// A static file server that behaves like a plain static host: it serves dist/ under a path prefix,
// answers unknown paths with 404.html (status 404), and knows nothing about the app's routes.
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize } from 'node:path';
import { gzipSync } from 'node:zlib';

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.wasm': 'application/wasm',
  '.css': 'text/css',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
  '.webmanifest': 'application/manifest+json',
};

/**
 * Serves `dist` at `prefix` (e.g. "/" or "/bluehome/") on 127.0.0.1; resolves to {url, close, replace, counter}.
 * `replace(file, body)` serves other content for one file from then on (a new deploy of that file).
 * `counter.bytes` is what the server has written to its sockets (headers and bodies) since `counter.reset()`.
 * `setOffline(true)` drops every connection and request from then on, as a lost signal does, until
 * `setOffline(false)`.
 * With `{ gzip: true }`, bodies go out gzip -9 compressed to clients that accept it, as static hosts
 * serve them (the load benchmark). Other hosts' habits:
 * - `wasmType`: the Content-Type of .wasm files (nginx before 1.21 sends `application/octet-stream`);
 * - `jekyll: true`: GitHub Pages building with Jekyll, which leaves out every file or directory whose
 *   name starts with "_" unless the site has a `.nojekyll` file;
 * - `hostNotFound: true`: unknown paths get the host's own 404 page, not the app's 404.html (an app
 *   under a sub-path of a site whose 404.html is the site's);
 * - `cacheControl`: the Cache-Control header (default `no-store`; GitHub Pages sends `max-age=600`);
 * - `headersFile: true`: Netlify or Cloudflare Pages, which send the headers listed in the root
 *   `_headers` file for each path pattern (`/*` and exact paths are what this server knows) and
 *   serve the file itself to no one.
 */
export async function serveDist(
  dist,
  prefix = '/',
  {
    gzip = false,
    wasmType = TYPES['.wasm'],
    jekyll = false,
    hostNotFound = false,
    cacheControl = 'no-store',
    headersFile = false,
  } = {},
) {
  const extraHeaders = headersFile ? parseHeadersFile(await readFile(join(dist, '_headers'), 'utf8')) : [];
  const jekyllKeeps = !jekyll || (await readFile(join(dist, '.nojekyll')).then(() => true, () => false));
  const replaced = new Map();
  const compressed = new Map();
  const counter = { bytes: 0, reset: () => (counter.bytes = 0) };
  const written = new WeakMap();
  const sockets = new Set();
  let offline = false;
  const server = createServer(async (req, res) => {
    if (offline) {
      req.socket.destroy();
      return;
    }
    res.on('finish', () => {
      const socket = req.socket;
      counter.bytes += socket.bytesWritten - (written.get(socket) ?? 0);
      written.set(socket, socket.bytesWritten);
    });
    const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    let body = null;
    let status = 200;
    let type = TYPES['.html'];
    if (path.startsWith(prefix)) {
      let rel = normalize(path.slice(prefix.length)).replace(/^(\.\.[/\\])+/, '');
      if (rel === '' || rel === '.' || rel.endsWith('/')) rel = join(rel, 'index.html');
      const dropped =
        (!jekyllKeeps && rel.split(/[/\\]/).some((segment) => segment.startsWith('_'))) ||
        (headersFile && rel === '_headers');
      try {
        if (dropped) throw new Error('left out by Jekyll');
        body = replaced.get(rel) ?? (await readFile(join(dist, rel)));
        type = extname(rel) === '.wasm' ? wasmType : (TYPES[extname(rel)] ?? 'application/octet-stream');
      } catch {
        body = null;
      }
    }
    if (body === null) {
      status = 404;
      type = TYPES['.html'];
      body = hostNotFound
        ? '<!doctype html><title>Not Found</title><h1>The host has no such page</h1>'
        : await readFile(join(dist, '404.html')).catch(() => 'not found');
    }
    const headers = { 'content-type': type, 'cache-control': cacheControl };
    for (const [pattern, name, value] of extraHeaders) {
      const site = path.startsWith(prefix) ? `/${path.slice(prefix.length)}` : path;
      if (pattern === '/*' || pattern === site) headers[name.toLowerCase()] = value;
    }
    if (gzip && /\bgzip\b/.test(req.headers['accept-encoding'] ?? '')) {
      // Compressed once per content, not per request: the time goes to the emulated link, not here.
      const raw = Buffer.from(body);
      let entry = compressed.get(path);
      if (!entry?.raw.equals(raw)) {
        entry = { raw, gz: gzipSync(raw, { level: 9 }) };
        compressed.set(path, entry);
      }
      body = entry.gz;
      headers['content-encoding'] = 'gzip';
      headers.vary = 'accept-encoding';
    }
    res.writeHead(status, headers);
    res.end(body);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}${prefix}`,
    close: () => new Promise((resolve) => server.close(resolve)),
    replace: (file, body) => replaced.set(file, body),
    counter,
    setOffline: (on) => {
      offline = on;
      if (on) for (const socket of sockets) socket.destroy();
    },
  };
}

/** The rules of a `_headers` file: `[pattern, name, value]` for each indented `Name: value` line. */
function parseHeadersFile(text) {
  const rules = [];
  let pattern = null;
  for (const line of text.split('\n')) {
    if (line.trim() === '' || line.trimStart().startsWith('#')) continue;
    if (!/^\s/.test(line)) {
      pattern = line.trim();
      continue;
    }
    const colon = line.indexOf(':');
    if (pattern === null || colon < 0) throw new Error(`_headers: a header outside a path, or no colon: ${line}`);
    rules.push([pattern, line.slice(0, colon).trim(), line.slice(colon + 1).trim()]);
  }
  return rules;
}
