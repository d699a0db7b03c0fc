// The release build's dist/, as Trunk would write it from index.html (.ci/release-build; Trunk itself
// cannot split the module). Usage: node .ci/assemble.mjs <pkg> <dist>
// - <pkg> (wasm-bindgen's JS, the main module, every part and `__wasm_split.js`, whose loader gets a
//   fallback for hosts without the wasm type) is copied to dist/app-<hash>/, the hash taken over
//   all of it, so every deploy's code has new URLs; dist/.nojekyll keeps GitHub Pages from
//   dropping `__wasm_split.js`;
// - each `<link data-trunk …>` of index.html is replaced: rel="rust" by a preload of the main JS and
//   wasm and an inline module script that starts the app; rel="css" by a stylesheet with a content
//   hash in its name; rel="copy-dir" by a copy of that directory. Anything else is an error.
// All URLs are relative: index.html points <base> at the app's directory before anything loads.
import { createHash } from 'node:crypto';
import { cp, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';

const [pkg, dist] = process.argv.slice(2);
if (!pkg || !dist) throw new Error('usage: node .ci/assemble.mjs <pkg> <dist>');

const digest = (...buffers) => {
  const hash = createHash('sha256');
  for (const b of buffers) hash.update(b);
  return hash.digest('hex').slice(0, 16);
};

await rm(dist, { recursive: true, force: true });
await mkdir(dist, { recursive: true });

const names = (await readdir(pkg)).sort();
for (const required of ['bluehome.js', 'bluehome_bg.wasm', '__wasm_split.js']) {
  if (!names.includes(required)) throw new Error(`assemble: ${pkg} has no ${required}`);
}
const contents = await Promise.all(names.map((n) => readFile(join(pkg, n))));
// The parts' loader: a host that serves .wasm without `Content-Type: application/wasm` (nginx before
// 1.21 has no type for it) makes `instantiateStreaming` refuse the part (WebAssembly Web API,
// "compile a potential WebAssembly response"); then compile it from its bytes, as wasm-bindgen's
// loader does for the main module.
const streaming = 'WebAssembly.instantiateStreaming(src, imports)';
const loaderAt = names.indexOf('__wasm_split.js');
const loader = contents[loaderAt].toString('utf8').split(streaming);
if (loader.length < 2) throw new Error(`assemble: __wasm_split.js no longer calls ${streaming}`);
const fallback = `async function instantiatePart(src, imports) {
    const response = await src;
    try {
        return await WebAssembly.instantiateStreaming(response.clone(), imports);
    } catch (e) {
        if (response.headers.get("Content-Type") === "application/wasm") throw e;
        return WebAssembly.instantiate(await response.arrayBuffer(), imports);
    }
}
`;
contents[loaderAt] = Buffer.from(loader.join('instantiatePart(src, imports)') + fallback);
const app = `app-${digest(...names.flatMap((n, i) => [n, contents[i]]))}`;
await mkdir(join(dist, app));
await Promise.all(names.map((n, i) => writeFile(join(dist, app, n), contents[i])));

let html = await readFile('index.html', 'utf8');
const directives = [...html.matchAll(/<link\s+data-trunk\b[^>]*>/g)];
for (const [tag] of directives) {
  const attr = (name) => tag.match(new RegExp(`\\b${name}="([^"]*)"`))?.[1];
  let replacement;
  switch (attr('rel')) {
    case 'rust':
      replacement = [
        `<link rel="modulepreload" href="./${app}/bluehome.js" />`,
        `<link rel="preload" href="./${app}/bluehome_bg.wasm" as="fetch" type="application/wasm" crossorigin />`,
        `<script type="module">import init from "./${app}/bluehome.js"; init({ module_or_path: "./${app}/bluehome_bg.wasm" });</script>`,
      ].join('\n    ');
      break;
    case 'css': {
      const source = attr('href');
      const body = await readFile(source);
      const name = `${basename(source, extname(source))}-${digest(body)}${extname(source)}`;
      await writeFile(join(dist, name), body);
      replacement = `<link rel="stylesheet" href="./${name}" />`;
      break;
    }
    case 'copy-dir': {
      const source = attr('href');
      await cp(source, join(dist, basename(source)), { recursive: true });
      replacement = '';
      break;
    }
    default:
      throw new Error(`assemble: index.html has a Trunk directive this build does not know: ${tag}`);
  }
  html = html.replace(tag, replacement);
}
await writeFile(join(dist, 'index.html'), html);
// GitHub Pages runs Jekyll over a site without this file, and Jekyll leaves out every file whose
// name starts with "_" ("Bypassing Jekyll on GitHub Pages", GitHub blog): `__wasm_split.js` too.
await writeFile(join(dist, '.nojekyll'), '');
console.log(`assemble: ${dist}/ with ${app}/ (${names.length} files)`);
