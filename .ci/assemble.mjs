// The release build's dist/, as Trunk would write it from index.html (.ci/release-build; Trunk itself
// cannot split the module). Usage: node .ci/assemble.mjs <pkg> <dist>
// - <pkg> (wasm-bindgen's JS, the main module, every part and `__wasm_split.js`) is copied to
//   dist/app-<hash>/, the hash taken over all of it, so every deploy's code has new URLs;
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
const app = `app-${digest(...names.flatMap((n, i) => [n, contents[i]]))}`;
await cp(pkg, join(dist, app), { recursive: true });

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
console.log(`assemble: ${dist}/ with ${app}/ (${names.length} files)`);
