/**
 * CA constraints: every CA has the layout's pathlen (intermediates 0), keyCertSign, and no
 * EKU that would restrict everything below it; a planned leaf file holds no CA.
 */
import type { CheckGroup } from './context.js';
import { base, cnOf, list } from './format.js';

export const caConstraints: CheckGroup = {
  name: 'ca-constraints',
  run(ctx, add) {
    const caByCn = new Map(ctx.settings.layout.cas.map((c) => [c.cn, c]));
    for (const { cert: c, role, first } of ctx.certs) {
      if (role === 'leaf') continue;
      const { node, path } = first;
      const fp = c.fingerprint;
      const layoutCa = caByCn.get(c.commonName ?? '');
      const wantPath = layoutCa?.pathlen ?? (role === 'intermediate' ? 0 : undefined);
      if (wantPath !== undefined && c.pathLen !== wantPath) {
        add(
          'ca-constraints',
          node,
          path,
          `${cnOf(c)} has pathlen ${c.pathLen ?? 'unlimited'}, the layout wants ${wantPath}`,
          fp,
        );
      }
      if (c.keyUsages.length > 0 && !c.keyUsages.includes('keyCertSign')) {
        add('ca-constraints', node, path, `${cnOf(c)} is a CA without keyCertSign`, fp);
      }
      const eku = c.extKeyUsages;
      if (
        eku.length > 0 &&
        !(eku.includes('serverAuth') && eku.includes('clientAuth')) &&
        !eku.includes('anyExtendedKeyUsage')
      ) {
        add(
          'ca-constraints',
          node,
          path,
          `${cnOf(c)} carries EKU ${list(eku)}, which restricts every certificate below it`,
          fp,
        );
      }
    }

    for (const n of ctx.nodes) {
      for (const { pc, file, leaf } of n.planned) {
        if (!file || !leaf?.isCA) continue;
        add(
          'ca-constraints',
          n.node,
          pc.certPath,
          `${base(pc.certPath)} holds a CA certificate (${cnOf(leaf)}) where a ${pc.profile} leaf belongs`,
          leaf.fingerprint,
        );
      }
    }
  },
};
