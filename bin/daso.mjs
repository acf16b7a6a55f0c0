#!/usr/bin/env node
// Entry for `npx daso`: the CLI is bundled by `npm run build` into dist/cli.js.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
if (!existsSync(join(root, 'dist/cli.js'))) {
  process.stderr.write('daso: dist/cli.js is missing; run `npm run build` first\n');
  process.exit(1);
}
await import(join(root, 'dist/cli.js'));
