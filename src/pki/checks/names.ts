/**
 * Names: each planned certificate's subject CN and O, and its SANs, against the node's plan
 * from the layout. An anonymous scan (`--path` without `--node`) matches `{node}` by shape
 * and does not flag extra SANs.
 */
import { isIpLiteral } from '../../config/validate.js';
import type { CheckGroup } from './context.js';
import { list } from './format.js';

export const NODE_NAME_PATTERN = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';

/** Matches `actual` against a layout name that may still contain `{node}` (anonymous scan). */
function nameMatches(expected: string, actual: string | undefined): boolean {
  if (actual === undefined) return false;
  if (!expected.includes('{node}')) return expected === actual;
  const re = new RegExp(
    `^${expected
      .split('{node}')
      .map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join(NODE_NAME_PATTERN)}$`,
  );
  return re.test(actual);
}

export const names: CheckGroup = {
  name: 'names',
  run(ctx, add) {
    for (const n of ctx.nodes) {
      for (const { pc, file, leaf } of n.planned) {
        if (!file || !leaf) continue;
        const fp = leaf.fingerprint;
        if (!nameMatches(pc.cn, leaf.commonName)) {
          add(
            'cn',
            n.node,
            pc.certPath,
            `CN is ${JSON.stringify(leaf.commonName ?? '')}, the layout wants ${JSON.stringify(pc.cn.replaceAll('{node}', '<node>'))}`,
            fp,
          );
        }
        const wantO = [...pc.o].sort();
        const haveO = [...leaf.organizations].sort();
        if (wantO.join('\n') !== haveO.join('\n')) {
          add(
            'o',
            n.node,
            pc.certPath,
            `O is ${JSON.stringify(haveO)}, the layout wants ${JSON.stringify(wantO)}`,
            fp,
          );
        }
        const sans = pc.sans.filter((x) => !x.includes('{'));
        const isIp = (x: string): boolean => isIpLiteral(x);
        const wantIps = sans.filter(isIp);
        const wantDns = sans.filter((x) => !isIp(x));
        const missing = [
          ...wantDns.filter((d) => !leaf.dnsNames.includes(d)),
          ...wantIps.filter((ip) => !leaf.ipAddresses.includes(ip)),
        ];
        if (missing.length > 0) {
          add(
            'san-missing',
            n.node,
            pc.certPath,
            `missing SAN${missing.length > 1 ? 's' : ''} ${list(missing)}`,
            fp,
          );
        }
        if (n.input.anonymous) continue;
        const extra = [
          ...leaf.dnsNames.filter((d) => !wantDns.includes(d)),
          ...leaf.ipAddresses.filter((ip) => !wantIps.includes(ip)),
        ];
        if (extra.length > 0)
          add(
            'san-extra',
            n.node,
            pc.certPath,
            `SAN${extra.length > 1 ? 's' : ''} not in the layout: ${list(extra)}${
              n.input.addressesUnknown && extra.some(isIp)
                ? " (the node's addresses are unknown: pass --inventory to check them)"
                : ''
            }`,
            fp,
          );
      }
    }
  },
};
