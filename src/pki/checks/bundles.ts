/**
 * Trust bundles: each bundle of the plan holds every CA the layout puts in it, and every
 * intermediate of that name that signs a certificate in use anywhere (an overlap during
 * rotation); and nothing else: no root, no other trust domain's CA, no leaf. A missing
 * bundle is the `files` group's.
 */
import type { IndexedCert } from '../chain.js';
import { isSelfIssued } from '../chain.js';
import type { CheckGroup } from './context.js';
import { base, cnOf, list, short } from './format.js';

export const bundles: CheckGroup = {
  name: 'bundles',
  run(ctx, add) {
    const layoutCas = ctx.settings.layout.cas;
    // In-use issuers per CA name: the intermediates that actually signed leaves somewhere.
    const issuersInUse = new Map<string, Map<string, IndexedCert>>();
    for (const { cert, entry, link } of ctx.certs) {
      if (cert.isCA || link.kind !== 'verified') continue;
      const cn = link.issuer.cert.commonName ?? '';
      const m = issuersInUse.get(cn) ?? new Map<string, IndexedCert>();
      m.set(link.issuer.cert.fingerprint, entry);
      issuersInUse.set(cn, m);
    }

    for (const n of ctx.nodes) {
      for (const pb of n.plan?.bundles ?? []) {
        const cf = n.byPath.get(pb.path);
        if (!cf) continue;
        const cas = pb.cas
          .map((id) => layoutCas.find((c) => c.id === id))
          .filter((c) => c !== undefined);
        const cns = new Set(cas.map((c) => c.cn));
        const fps = new Set(cf.certs.map((c) => c.fingerprint));
        for (const ca of cas) {
          if (!cf.certs.some((c) => c.isCA && c.commonName === ca.cn)) {
            add('bundle-missing-ca', n.node, pb.path, `${base(pb.path)} does not hold ${ca.cn}`);
            continue;
          }
          for (const [fp, user] of issuersInUse.get(ca.cn) ?? []) {
            if (fps.has(fp)) continue;
            const at = user.locations[0]!;
            add(
              'bundle-missing-ca',
              n.node,
              pb.path,
              `${base(pb.path)} does not hold ${ca.cn} ${short(fp)}, which signs ${base(at.path)} on ${at.node}: those certificates are rejected here`,
            );
          }
        }
        for (const c of cf.certs) {
          if (!c.isCA)
            add(
              'bundle-foreign-ca',
              n.node,
              pb.path,
              `${base(pb.path)} holds ${cnOf(c)}, which is not a CA`,
              c.fingerprint,
            );
          else if (isSelfIssued(c))
            add(
              'bundle-foreign-ca',
              n.node,
              pb.path,
              `${base(pb.path)} holds the root ${cnOf(c)}: every leaf of every trust domain would be accepted`,
              c.fingerprint,
            );
          else if (!cns.has(c.commonName ?? ''))
            add(
              'bundle-foreign-ca',
              n.node,
              pb.path,
              `${base(pb.path)} holds ${cnOf(c)}, which is not in this trust domain (${list([...cns])})`,
              c.fingerprint,
            );
        }
      }
    }
  },
};
