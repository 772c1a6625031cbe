#!/usr/bin/env node
// The Node.js lines Carafe supports, pinned to exact releases so that CI results are reproducible:
// the maintained lines (22 in maintenance, 24 and 26 LTS). `engines` says >= 22.12.
// Run as a script, prints the releases CI tests on besides the one `npm test` itself uses
// (the machine's own Node when supported, else DEFAULT_NODE), one per line.
import { fileURLToPath } from 'node:url';

export const SUPPORTED_NODE = ['22.23.5', '24.22.3', '26.12.1'];
/** The release `npm test` and `npm start` switch to when the machine's Node is not supported. */
export const DEFAULT_NODE = '24.22.3';
export const MIN_NODE = [22, 12];

export function isSupported(version) {
  const [major, minor] = version.split('.').map(Number);
  return major > MIN_NODE[0] || (major === MIN_NODE[0] && minor >= MIN_NODE[1]);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const used = isSupported(process.versions.node) ? process.versions.node : DEFAULT_NODE;
  const usedMajor = used.split('.')[0];
  console.log(SUPPORTED_NODE.filter((version) => version.split('.')[0] !== usedMajor).join('\n'));
}
