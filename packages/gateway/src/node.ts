/**
 * `@carafe/gateway/node`: the main entry, whatever the export conditions. `@carafe/gateway` itself
 * resolves to the node-free entry (`./fetch`) under the `workerd`, `worker` and `browser`
 * conditions; a module that needs the node:http binding or the file helpers (`serve`, `sendFile`,
 * `resolveUnder`, …) imports them from here, and is then Node-only (Bun and Deno load it too).
 */
export * from './index.js';
