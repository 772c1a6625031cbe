#!/usr/bin/env node
// The `carafe` command as npm links it. npm creates node_modules/.bin/carafe at install time, when a
// checkout has not been built yet, and links nothing to a file that is missing: so the bin is this
// committed file, and it loads the compiled CLI (dist/cli.js, which a published package carries).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const cli = new URL('../dist/cli.js', import.meta.url);
if (!existsSync(cli)) {
  console.error(`carafe: the CLI is not built yet (${fileURLToPath(cli)} is missing); run \`npm run build\` first`);
  process.exit(1);
}
await import(cli.href);
