// Bundle every anywidget module src/widgets/<name>.ts (and the CSS it imports)
// into ../transfer_widgets/static/<name>.js and <name>.css: self-contained ES
// modules that the Python widgets load as `_esm` / `_css`. A src/widgets/<name>.css
// with no .ts beside it (a view drawn by ipywidgets, such as the training monitor)
// becomes static/<name>.css on its own, its @imports inlined.

import { readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const srcDir = join(root, 'src', 'widgets');
const outdir = resolve(root, '..', 'transfer_widgets', 'static');
const files = readdirSync(srcDir);
const entries = files.filter(f => f.endsWith('.ts') && !f.endsWith('.d.ts'));
if (entries.length === 0) throw new Error(`no widget modules in ${srcDir}`);
const styleOnly = files.filter(f => f.endsWith('.css') && !files.includes(f.replace(/\.css$/, '.ts')));

const result = await build({
  entryPoints: Object.fromEntries([...entries, ...styleOnly].map(f => [f.replace(/\.(ts|css)$/, ''), join(srcDir, f)])),
  outdir,
  bundle: true,
  format: 'esm',
  target: 'es2020',
  minify: true,
  legalComments: 'none',
  metafile: true,
  logLevel: 'warning'
});
for (const [file, info] of Object.entries(result.metafile.outputs)) {
  console.log(`${file.padEnd(40)} ${(info.bytes / 1024).toFixed(1)} KiB`);
}
