/** Usages: each planned certificate's key usages and EKUs against its profile (server, client, peer). */
import { PROFILE_USAGES } from '../profiles.js';
import type { CheckGroup } from './context.js';
import { list } from './format.js';

export const usages: CheckGroup = {
  name: 'usages',
  run(ctx, add) {
    for (const n of ctx.nodes) {
      for (const { pc, file, leaf } of n.planned) {
        if (!file || !leaf) continue;
        const fp = leaf.fingerprint;
        const prof = PROFILE_USAGES[pc.profile];
        const missingKu = prof.requiredKeyUsages.filter((u) => !leaf.keyUsages.includes(u));
        const missingEku = prof.extKeyUsages.filter((u) => !leaf.extKeyUsages.includes(u));
        if (missingKu.length > 0 || missingEku.length > 0) {
          const has = leaf.extKeyUsages.length > 0 ? leaf.extKeyUsages.join('+') : 'no EKU';
          add(
            'key-usage',
            n.node,
            pc.certPath,
            `${pc.profile} certificate without ${list([...missingKu, ...missingEku])} (has ${has})`,
            fp,
          );
        }
        const extraEku = leaf.extKeyUsages.filter((u) => !prof.extKeyUsages.includes(u));
        if (extraEku.length > 0 && missingEku.length === 0) {
          add(
            'key-usage-extra',
            n.node,
            pc.certPath,
            `${pc.profile} certificate also has ${list(extraEku)}`,
            fp,
          );
        }
      }
    }
  },
};
