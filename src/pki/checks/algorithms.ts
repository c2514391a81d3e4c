/** Algorithms: every certificate carries an ECDSA P-521 key and an ecdsa-with-SHA512 signature. */
import { EXPECTED_KEY, EXPECTED_SIGNATURE } from '../profiles.js';
import type { CheckGroup } from './context.js';
import { cnOf } from './format.js';

export const algorithms: CheckGroup = {
  name: 'algorithms',
  run(ctx, add) {
    for (const { cert: c, first } of ctx.certs) {
      const { node, path } = first;
      if (c.keyAlgorithm !== EXPECTED_KEY.algorithm || c.curve !== EXPECTED_KEY.curve) {
        add(
          'key-algorithm',
          node,
          path,
          `${cnOf(c)} has a ${c.keyAlgorithm}${c.curve ? ` ${c.curve}` : ''} key; the cluster uses ECDSA P-521`,
          c.fingerprint,
        );
      }
      if (c.signatureAlgorithm !== EXPECTED_SIGNATURE) {
        add(
          'signature-algorithm',
          node,
          path,
          `${cnOf(c)} is signed with ${c.signatureAlgorithm}; the cluster uses ${EXPECTED_SIGNATURE}`,
          c.fingerprint,
        );
      }
    }
  },
};
