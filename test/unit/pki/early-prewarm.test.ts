/**
 * EarlyPrewarm (src/pki/chain.ts): signatures queued while the files are still being parsed
 * (issue 13: a cold scan of 5,000 certificates kept a core idle until the last file was
 * parsed). Fed chunk by chunk, in an order where issuers come after their children, it asks
 * for exactly the pairs prewarmSignatures asks for on the whole index, and the verdicts are
 * the serial path's.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { EarlyPrewarm, indexCerts, prewarmSignatures } from '../../../src/pki/chain.js';
import type { CertFile, CertSummary } from '../../../src/pki/types.js';
import {
  clearVerifyCache,
  type SignatureVerdict,
  verifySignature,
  verifySignatureAsync,
} from '../../../src/pki/verify.js';
import { parseCertFile } from '../../../src/pki/x509.js';
import { issue, makeRoot } from '../../helpers/pki-certs.js';

let files: CertFile[];

beforeAll(async () => {
  const root = await makeRoot();
  const ca = await issue(root, { cn: 'kubernetes-ca', ca: { pathlen: 0 } });
  const ca2 = await issue(root, { cn: 'kubernetes-ca', ca: { pathlen: 0 } }); // same name
  const leaves = await Promise.all(
    Array.from({ length: 12 }, (_, i) => issue(i % 3 ? ca : ca2, { cn: `leaf-${i}` })),
  );
  const forged = await issue(ca, { cn: 'forged', signWith: root.keys });
  const f = (path: string, pem: string) => parseCertFile('n1', path, pem);
  // leaves (and a bundle holding a leaf and its CA) before their issuers, the root last
  files = [
    ...leaves.map((l, i) => f(`/pki/leaf-${i}.pem`, l.pem)),
    f('/pki/forged.pem', forged.pem),
    f('/pki/bundle.pem', leaves[0]!.pem + ca.pem),
    f('/pki/ca2.pem', ca2.pem),
    f('/pki/leaf-0-copy.pem', leaves[0]!.pem),
    f('/pki/root.pem', root.pem),
  ];
});

/** A verifier that records the pairs it is asked for. */
function recording() {
  const pairs: string[] = [];
  const verify = (c: CertSummary, i: CertSummary): Promise<SignatureVerdict> => {
    pairs.push(`${c.fingerprint}>${i.fingerprint}`);
    return verifySignatureAsync(c, i);
  };
  return { pairs, verify };
}

describe('EarlyPrewarm', () => {
  it.each([1, 3, 100])(
    'fed %i file(s) at a time: the pairs of prewarmSignatures, the serial verdicts',
    async (chunk) => {
      clearVerifyCache();
      const whole = recording();
      await prewarmSignatures(indexCerts(files), whole.verify);
      clearVerifyCache();
      const early = recording();
      const e = new EarlyPrewarm(early.verify);
      for (let i = 0; i < files.length; i += chunk) e.feed(files.slice(i, i + chunk));
      await e.settled();
      expect(new Set(early.pairs)).toEqual(new Set(whole.pairs));
      expect(early.pairs).toHaveLength(new Set(early.pairs).size); // each pair once
      // the final prewarm over the whole index finds nothing left to verify
      const after = recording();
      await prewarmSignatures(indexCerts(files), after.verify);
      const verdicts = await Promise.all(
        after.pairs.map((p) => {
          const [c, i] = p.split('>');
          const by = (fp: string) =>
            files.flatMap((x) => x.certs).find((x) => x.fingerprint === fp)!;
          return verifySignatureAsync(by(c!), by(i!));
        }),
      );
      clearVerifyCache();
      const serial = after.pairs.map((p) => {
        const [c, i] = p.split('>');
        const by = (fp: string) => files.flatMap((x) => x.certs).find((x) => x.fingerprint === fp)!;
        return verifySignature(by(c!), by(i!));
      });
      expect(verdicts).toEqual(serial);
      expect(serial.filter((v) => !v.ok).length).toBeGreaterThan(0); // the forged leaf, ca2's
    },
  );
});
