/**
 * Usages: each planned certificate's key usages and EKUs against its profile (server,
 * client, peer). A leaf no plan speaks for (other tools' file names, `--path` without
 * `--node`) is held to what any TLS use needs: digitalSignature when it has a key-usage
 * extension (an ECDSA key signs the handshake), and serverAuth or clientAuth when it has
 * an EKU extension (Go's verifier, every Kubernetes component, rejects it otherwise).
 */
import { PROFILE_USAGES } from '../profiles.js';
import type { CertSummary } from '../types.js';
import type { CheckGroup } from './context.js';
import { cnOf, list } from './format.js';

const TLS_EKUS = ['serverAuth', 'clientAuth', 'anyExtendedKeyUsage'];

/** Why a leaf of no plan cannot serve TLS; empty when it can. */
function tlsProblems(c: CertSummary): string[] {
  const out: string[] = [];
  if (c.keyUsages.length > 0 && !c.keyUsages.includes('digitalSignature'))
    out.push(`key usage ${list(c.keyUsages)} lacks digitalSignature`);
  if (c.extKeyUsages.length > 0 && !c.extKeyUsages.some((u) => TLS_EKUS.includes(u)))
    out.push(`EKU ${list(c.extKeyUsages)} has neither serverAuth nor clientAuth`);
  return out;
}

export const usages: CheckGroup = {
  name: 'usages',
  run(ctx, add) {
    const planned = new Set<string>();
    for (const n of ctx.nodes) {
      for (const { pc, file, leaf } of n.planned) {
        if (!file || !leaf) continue;
        const fp = leaf.fingerprint;
        planned.add(fp);
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

    for (const { cert: c, role, first } of ctx.certs) {
      if (role !== 'leaf' || planned.has(c.fingerprint)) continue;
      const why = tlsProblems(c);
      if (why.length > 0)
        add(
          'key-usage',
          first.node,
          first.path,
          `${cnOf(c)}: ${why.join('; ')}: no TLS use is left to it`,
          c.fingerprint,
        );
    }
  },
};
