/**
 * Service-account keys: every control-plane node's signing key (sa-key.pem) must be trusted
 * by every control-plane node's public-key file (sa.pub, --service-account-key-file), or
 * tokens signed on one are refused by the others. Each node may sign with its own key
 * (k8ops rotate --sa-key makes one per node; the file then holds several); a signing key
 * missing from another node's file is flagged there.
 */
import type { CheckGroup } from './context.js';
import { base, short } from './format.js';

export const serviceAccount: CheckGroup = {
  name: 'service-account',
  run(ctx, add) {
    const signing = new Map<string, string>();
    const trusted = new Map<string, { path: string; digests: string[] }>();
    for (const n of ctx.nodes) {
      if (!n.haveStatus) continue;
      for (const kp of n.plan?.keypairs ?? []) {
        const key = n.statusFiles.get(kp.keyPath);
        if (key?.exists && key.pubkeySha256) signing.set(n.node, key.pubkeySha256);
        const pub = n.statusFiles.get(kp.pubPath);
        if (pub?.exists && pub.pubkeySha256)
          trusted.set(n.node, {
            path: kp.pubPath,
            digests: pub.pubkeysSha256 ?? [pub.pubkeySha256],
          });
      }
    }
    for (const [node, { path, digests }] of trusted) {
      for (const [signer, key] of signing) {
        if (signer === node || digests.includes(key)) continue;
        add(
          'sa-key-differs',
          node,
          path,
          `${base(path)} does not trust the service-account signing key of ${signer} (${short(key)}): tokens signed there are refused here`,
        );
      }
    }
  },
};
