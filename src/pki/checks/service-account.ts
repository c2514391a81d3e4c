/**
 * Service-account keys: the public key (sa.pub) is the same on every control-plane node, or
 * tokens signed on one are rejected by the others. The odd ones out (against the most common
 * digest) are flagged.
 */
import type { CheckGroup } from './context.js';
import { base, short } from './format.js';

export const serviceAccount: CheckGroup = {
  name: 'service-account',
  run(ctx, add) {
    const digests = new Map<string, { path: string; digest: string }>();
    for (const n of ctx.nodes) {
      if (!n.haveStatus) continue;
      for (const kp of n.plan?.keypairs ?? []) {
        const pub = n.statusFiles.get(kp.pubPath);
        if (pub?.exists && pub.pubkeySha256)
          digests.set(n.node, { path: kp.pubPath, digest: pub.pubkeySha256 });
      }
    }
    const counts = new Map<string, number>();
    for (const { digest } of digests.values()) counts.set(digest, (counts.get(digest) ?? 0) + 1);
    if (counts.size <= 1) return;
    const common = [...counts].sort((a, b) => b[1] - a[1])[0]![0];
    for (const [node, { path, digest }] of digests) {
      if (digest !== common) {
        add(
          'sa-key-differs',
          node,
          path,
          `${base(path)} differs from the one on the other control-plane nodes (${short(digest)} ≠ ${short(common)}): tokens signed here fail elsewhere`,
        );
      }
    }
  },
};
