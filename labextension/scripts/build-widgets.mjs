// Bundle every anywidget module src/widgets/<name>.ts (and the CSS it imports)
// into ../transfer_widgets/static/<name>.js and <name>.css: self-contained ES
// modules that the Python widgets load as `_esm` / `_css`.

import { readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const srcDir = join(root, 'src', 'widgets');
const outdir = resolve(root, '..', 'transfer_widgets', 'static');
const entries = readdirSync(srcDir).filter(f => f.endsWith('.ts') && !f.endsWith('.d.ts'));
if (entries.length === 0) throw new Error(`no widget modules in ${srcDir}`);

const result = await build({
  entryPoints: Object.fromEntries(entries.map(f => [f.replace(/\.ts$/, ''), join(srcDir, f)])),
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
