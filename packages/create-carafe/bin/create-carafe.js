#!/usr/bin/env node
// `npm create carafe@latest my-api [-- --mongo]` runs this: npm turns `npm create carafe` into
// `npm exec create-carafe`. A committed file rather than dist/ itself, so that npm links it even in
// a checkout that has not been built yet.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = new URL('../dist/index.js', import.meta.url);
if (!existsSync(entry)) {
  console.error(`create-carafe: not built yet (${fileURLToPath(entry)} is missing); run \`npm run build\` first`);
  process.exit(1);
}
const { createCarafe } = await import(entry.href);
process.exitCode = await createCarafe(process.argv.slice(2));
