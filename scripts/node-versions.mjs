#!/usr/bin/env node
// Prints the Node.js releases CI tests on besides the machine's own: one per supported line
// (package.json `engines` says ≥ 20.19; 22 and 24 are the other LTS lines), skipping the
// line the machine already runs. Pinned so that CI results are reproducible.
const NODE_VERSIONS = ['20.20.2', '22.23.3', '24.21.0'];

const running = process.versions.node.split('.')[0];
console.log(NODE_VERSIONS.filter((version) => version.split('.')[0] !== running).join('\n'));
