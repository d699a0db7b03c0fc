// After each build, in the directory being built: Trunk's post-build hook (Trunk.toml, `make serve`)
// and the release build (.ci/release-build: `node .ci/postbuild.mjs dist --release`):
// - release builds get a Content-Security-Policy <meta> tag with the sha256 of each inline script,
//   and a `_headers` file that sends it, with `frame-ancestors`, on hosts that read one;
// - the service worker is installed at the app's root with the build's file list (every part of the
//   split module included, so the app works offline after the first visit) and version;
// - 404.html is a copy of index.html, so static hosts serve the app for deep links.
import { createHash } from 'node:crypto';
import { readFile, readdir, unlink, writeFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';

const staging = process.argv[2] ?? process.env.TRUNK_STAGING_DIR;
if (!staging) throw new Error('postbuild: give the build directory, or run it from Trunk (TRUNK_STAGING_DIR)');
const release = process.argv.includes('--release') || process.env.TRUNK_PROFILE === 'release';

const sha256 = (data) => createHash('sha256').update(data).digest('base64');

async function files(dir) {
  const out = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await files(path)));
    else out.push(relative(staging, path).split(sep).join('/'));
  }
  return out.sort();
}

let html = await readFile(join(staging, 'index.html'), 'utf8');

if (release) {
  const inline = [...html.matchAll(/<script(?![^>]*\bsrc=)[^>]*>([\s\S]*?)<\/script>/g)].map((m) => m[1]);
  const hashes = inline.map((body) => `'sha256-${sha256(body)}'`).join(' ');
  const policy = [
    "default-src 'self'",
    // The wasm module needs 'wasm-unsafe-eval'; inline scripts are allowed only by their hashes.
    `script-src 'self' 'wasm-unsafe-eval' ${hashes}`,
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "manifest-src 'self'",
    "worker-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'none'",
  ].join('; ');
  const meta = `<meta http-equiv="Content-Security-Policy" content="${policy}" />`;
  if (!html.includes('<meta charset="utf-8" />')) throw new Error('postbuild: no <meta charset> to put the CSP after');
  html = html.replace('<meta charset="utf-8" />', `<meta charset="utf-8" />\n    ${meta}`);
  await writeFile(join(staging, 'index.html'), html);
  // A <meta> policy cannot say who may frame the page (CSP Level 3, "frame-ancestors": not in a
  // <meta>). Netlify and Cloudflare Pages send the headers a root `_headers` file lists for each
  // path and serve the file itself to no one; other hosts ignore it (README "Hosting").
  const headers = [
    '# Headers for hosts that read this file (Netlify, Cloudflare Pages); written by .ci/postbuild.mjs.',
    '/*',
    `  Content-Security-Policy: ${policy}; frame-ancestors 'none'`,
    '  X-Content-Type-Options: nosniff',
    '',
  ].join('\n');
  await writeFile(join(staging, '_headers'), headers);
  console.log(`postbuild: CSP with ${inline.length} inline script hash(es), and in _headers with frame-ancestors`);
}

// The service worker lives at the root so that its scope is the whole app.
const template = await readFile(join(staging, 'public', 'sw.js'), 'utf8');
// Not the host's own files (`.nojekyll`, `_headers`): a host may refuse to serve them, and then no
// worker installs.
const hostFiles = new Set(['404.html', 'public/sw.js', '_headers']);
const assets = (await files(staging)).filter((f) => !hostFiles.has(f) && !f.startsWith('.'));
const version = createHash('sha256');
for (const file of assets) version.update(file).update(await readFile(join(staging, file)));
const worker = template
  .replace('"__BLUEHOME_VERSION__"', JSON.stringify(version.digest('hex').slice(0, 16)))
  .replace('["__BLUEHOME_ASSETS__"]', JSON.stringify(['./', ...assets]));
await writeFile(join(staging, 'sw.js'), worker);
await unlink(join(staging, 'public', 'sw.js'));

await writeFile(join(staging, '404.html'), html);
