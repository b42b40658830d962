import { rmSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
for (const p of ['lib', 'tsconfig.tsbuildinfo', '../transfer_widgets/static', '../transfer_widgets/labextension']) {
  rmSync(resolve(root, p), { recursive: true, force: true });
}
