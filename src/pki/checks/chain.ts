/**
 * The chain: each certificate's issuer found by name and confirmed by signature
 * (src/pki/chain.ts), the issuer fit to issue and outlived by nothing it signed; and in each
 * planned certificate file, the layout's CA as issuer with that intermediate after the leaf.
 */
import { describe, isSelfIssued } from '../chain.js';
import type { CheckGroup } from './context.js';
import { base, cnOf, iso } from './format.js';

export const chain: CheckGroup = {
  name: 'chain',
  run(ctx, add) {
    for (const { cert: c, first, link } of ctx.certs) {
      const { node, path } = first;
      const fp = c.fingerprint;
      switch (link.kind) {
        case 'self-signed':
          if (!c.isCA)
            add(
              'self-signed',
              node,
              path,
              `${cnOf(c)} is self-signed: no CA of the cluster issued it`,
              fp,
            );
          break;
        case 'verified': {
          const is = link.issuer.cert;
          const problems: string[] = [];
          if (!is.isCA) problems.push('is not a CA (basicConstraints CA:FALSE or absent)');
          if (is.keyUsages.length > 0 && !is.keyUsages.includes('keyCertSign'))
            problems.push('lacks keyCertSign');
          if (c.isCA && is.pathLen === 0) problems.push('has pathlen 0 yet issued a CA');
          if (problems.length > 0) {
            add(
              'issuer-not-ca',
              node,
              path,
              `issuer ${describe(is)} ${problems.join(', ')}: the chain is invalid`,
              fp,
            );
          }
          if (c.notAfter > is.notAfter) {
            add(
              'outlives-issuer',
              node,
              path,
              `${cnOf(c)} (notAfter ${iso(c.notAfter)}) outlives its issuer ${cnOf(is)} (notAfter ${iso(is.notAfter)}): it stops verifying when the issuer expires`,
              fp,
            );
          }
          break;
        }
        case 'bad-signature':
          add('bad-signature', node, path, `${cnOf(c)}: ${link.message}`, fp);
          break;
        case 'missing':
          if (c.isCA) {
            add(
              'root-unavailable',
              node,
              path,
              `issuer of ${cnOf(c)} (${c.issuer}) is on no node (kept offline): its signature is not verified up to the root`,
              fp,
            );
          } else {
            add(
              'issuer-missing',
              node,
              path,
              `issuer ${c.issuer} of ${cnOf(c)} is on no node: the chain cannot be verified`,
              fp,
            );
          }
          break;
        case 'unverifiable':
          add('unverifiable', node, path, `${cnOf(c)}: ${link.message}`, fp);
          break;
      }
    }

    for (const n of ctx.nodes) {
      for (const { pc, file, leaf } of n.planned) {
        if (!file || !leaf) continue;
        const fp = leaf.fingerprint;
        const link = ctx.links.get(leaf.fingerprint);
        const wantCa = ctx.settings.layout.cas.find((c) => c.id === pc.ca);
        if (link?.kind === 'verified' && wantCa && link.issuer.cert.commonName !== wantCa.cn) {
          add(
            'wrong-ca',
            n.node,
            pc.certPath,
            `issued by ${cnOf(link.issuer.cert)}, the layout says ${wantCa.cn}`,
            fp,
          );
        }
        if (isSelfIssued(leaf)) continue;
        const next = file.certs[1];
        if (!next) {
          add(
            'chain-incomplete',
            n.node,
            pc.certPath,
            `${base(pc.certPath)} holds only the leaf: its intermediate ${wantCa?.cn ?? leaf.issuer} must follow it`,
            fp,
          );
        } else if (link?.kind === 'verified' && next.fingerprint !== link.issuer.cert.fingerprint) {
          add(
            'chain-order',
            n.node,
            pc.certPath,
            `the certificate after the leaf is ${describe(next)}, not the leaf's issuer ${describe(link.issuer.cert)}`,
            fp,
          );
        }
      }
    }
  },
};
