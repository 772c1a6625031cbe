/**
 * scripts/ferretdb.mjs — the embedded default database used by `npm start`, the tests' global
 * setup and CI: it starts FerretDB on a free loopback port, waits for a real `ping`, keeps data
 * where it is told, and fails with FerretDB's own words when it cannot start.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { MongoClient } from 'mongodb';
import { afterAll, describe, expect, it } from 'vitest';
// @ts-expect-error -- plain ESM script without type declarations
import { startFerretDB } from '../scripts/ferretdb.mjs';

const ROOT = resolve(import.meta.dirname, '..');
const scratch = mkdtempSync(join(tmpdir(), 'carafe-ferretdb-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('scripts/ferretdb.mjs', () => {
  it('starts FerretDB that stores data and answers the driver, and removes a temporary data dir on stop', async () => {
    const ferret = await startFerretDB();
    expect(ferret.uri).toMatch(/^mongodb:\/\/127\.0\.0\.1:\d+\/$/);
    const client = await MongoClient.connect(ferret.uri);
    try {
      const things = client.db('ferret_check').collection('things');
      await things.insertOne({ hello: 'world' });
      expect(await things.findOne({ hello: 'world' }, { projection: { _id: 0 } })).toEqual({ hello: 'world' });
    } finally {
      await client.close();
    }
    expect(readdirSync(ferret.dataDir).length).toBeGreaterThan(0);
    await ferret.stop();
    expect(() => readdirSync(ferret.dataDir)).toThrow(/ENOENT/);
  });

  it("fails clearly, with FerretDB's log, when its port is taken", async () => {
    const blocker: Server = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as { port: number }).port;
    try {
      await expect(startFerretDB({ port, timeoutMs: 10_000 })).rejects.toThrow(
        new RegExp(`FerretDB on 127\\.0\\.0\\.1:${port} exited[\\s\\S]*address already in use`),
      );
    } finally {
      blocker.close();
    }
  });

  it('runs from the command line, keeps its data in --data, and stops on SIGTERM', async () => {
    const dataDir = join(scratch, 'cli-data');
    const child = spawn(process.execPath, [join(ROOT, 'scripts/ferretdb.mjs'), 'start', '--data', dataDir], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    let stdout = '';
    const uri = await new Promise<string>((resolveUri, reject) => {
      const timer = setTimeout(() => reject(new Error(`no URI printed; stdout: ${stdout}`)), 30_000);
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        stdout += chunk;
        const match = /MONGODB_URI=(\S+)/.exec(stdout);
        if (match) {
          clearTimeout(timer);
          resolveUri(match[1]!);
        }
      });
    });
    const client = await MongoClient.connect(uri);
    await client.db('cli_check').collection('kept').insertOne({ kept: true });
    await client.close();
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(readdirSync(dataDir).some((f) => f.endsWith('.sqlite'))).toBe(true);

    const again = await startFerretDB({ dataDir });
    const reopened = await MongoClient.connect(again.uri);
    try {
      expect(await reopened.db('cli_check').collection('kept').countDocuments({ kept: true })).toBe(1);
    } finally {
      await reopened.close();
      await again.stop();
    }
  });
});
