/**
 * Hostile text from a node (interface names, ping's "From" address and error lines, the
 * Cilium agent's strings) goes through the real sources and the session's sanitising into
 * `k8ops mtu` text and JSON: no raw control, C1 or bidi character comes out, and nothing
 * crashes. Agents here answer like compromised nodes; no network is used.
 */
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { formatMtuText, mtuCommand } from '../../../../src/commands/mtu.js';
import { demoInventory } from '../../../../src/demo/inventory.js';
import { mtuFeature } from '../../../../src/features/mtu/model.js';
import type { NodeAgent } from '../../../../src/nodes/agent.js';
import { createSession } from '../../../../src/session/session.js';
import { HOSTILE, RAW_UNSAFE } from '../../../helpers/hostile.js';

const evil = Object.values(HOSTILE).join('');

function hostileAgent(node: NodeAgent['node']): NodeAgent {
  const refuse = () => Promise.reject(new Error(`refused ${evil}`));
  return {
    node,
    exec: async (argv: readonly string[]) => {
      if (argv[0] === 'ip')
        return {
          stdout: JSON.stringify([
            {
              ifindex: 1,
              ifname: `eth0${evil}`,
              flags: ['UP'],
              mtu: 1500,
              operstate: evil,
              link_type: 'ether',
            },
            { ifindex: 2, ifname: evil, mtu: 9216, linkinfo: { info_kind: evil }, master: evil },
          ]),
          stderr: '',
          code: 0,
        };
      return {
        stdout: `From ${evil}x icmp_seq=1 Frag needed and DF set (mtu = 1500)\n`,
        stderr: `${evil}\n`,
        code: 1,
      };
    },
    forwardSocket: async () => {
      throw new Error(`${evil} no socket`);
    },
    forwardTcp: refuse,
    probe: refuse,
    readFiles: refuse,
    stat: refuse,
    listDir: refuse,
    readCertFiles: refuse,
    unitStates: refuse,
    pkiStatus: refuse,
    close: async () => {},
  } as NodeAgent;
}

describe('MTU with hostile node output', () => {
  it('text and JSON carry no raw control character', async () => {
    const inventory = demoInventory();
    inventory.nodes = inventory.nodes.slice(0, 3);
    const agents = new Map(inventory.nodes.map((n) => [n.name, hostileAgent(n)]));
    const session = createSession({
      mode: 'live',
      inventory,
      agents,
      readOnly: true,
      features: [mtuFeature],
    });
    const out = new PassThrough();
    let json = '';
    out.on('data', (c) => {
      json += String(c);
    });
    try {
      const code = await mtuCommand(session, true, out);
      expect(code).toBe(2);
      const m = mtuFeature.model({
        inventory,
        read: (s, src) => session.store.get(s, src),
        now: Date.now(),
        hasKube: false,
      });
      const text = formatMtuText(m);
      expect(text).not.toMatch(RAW_UNSAFE);
      expect(json).not.toMatch(RAW_UNSAFE);
      expect(text).toContain('eth0');
      const doc = JSON.parse(json) as { matrix: { cells: Array<Array<{ status: string }>> } };
      expect(doc.matrix.cells[0]![1]!.status).toMatch(/low|error/);
    } finally {
      await session.close();
    }
  });
});
