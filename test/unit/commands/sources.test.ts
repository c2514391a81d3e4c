/** A command starts only the sources of what it shows (a `nodes` run reads no certificate). */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { commandSources } from '../../../src/cli.js';
import { nodesCommand } from '../../../src/commands/nodes.js';
import { sourcesOf } from '../../../src/features/index.js';
import { openDemoSession } from '../../../src/session/demo.js';

const dir = mkdtempSync(join(tmpdir(), 'k8ops-cmd-sources-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ids = (sub: Parameters<typeof commandSources>[0]) =>
  sourcesOf(commandSources(sub) ?? []).map((s) => s.id);

describe('sources per command', () => {
  it('certs reads certificates, their status and (for ACME) the kube watches; overview its own; nodes no node source', () => {
    expect(ids('certs')).toEqual(['certs', 'pki-status', 'kube']);
    expect(ids('overview')).toEqual(['reach', 'certs', 'kube']);
    expect(ids('nodes')).toEqual(['kube']);
    expect(commandSources(undefined)).toBeUndefined(); // the console: every feature
  });

  it('a `nodes` run on the demo lab probes every node and starts no certificate source', async () => {
    const features = commandSources('nodes');
    const session = openDemoSession({
      readOnly: true,
      dir: join(dir, 'lab'),
      ...(features ? { features } : {}),
    });
    const out: string[] = [];
    const sink = { write: (s: string) => out.push(s) > 0 } as unknown as NodeJS.WritableStream;
    const code = await nodesCommand(session, true, sink);
    const doc = JSON.parse(out.join('')) as { nodes: Array<{ reachable: boolean }> };
    expect(code).toBe(0);
    expect(doc.nodes).toHaveLength(session.inventory.nodes.length);
    expect(doc.nodes.every((n) => n.reachable)).toBe(true);
    for (const n of session.inventory.nodes) {
      expect(session.store.get(n.name, 'certs').attemptedAt).toBeUndefined();
      expect(session.store.get(n.name, 'pki-status').attemptedAt).toBeUndefined();
    }
    await session.close();
  }, 60_000);
});
