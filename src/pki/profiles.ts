/**
 * Key usages per signing profile: what cfssl's profiles in nix/pki (server, client, peer,
 * intermediate, root) put into certificates, and therefore what the checks require and what
 * the demo lab issues. Kubernetes' rules (pki-nixos.md §3): server = digital signature, key
 * encipherment, server auth; client = digital signature, key encipherment, client auth;
 * peer = both. Intermediates carry no EKU (an EKU on a CA restricts everything below it).
 */
import type { Profile } from './layout.js';

export interface ProfileUsages {
  /** Key usages the profile sets (names as CertSummary.keyUsages). */
  keyUsages: readonly string[];
  /** Of those, the ones a certificate must have. */
  requiredKeyUsages: readonly string[];
  extKeyUsages: readonly string[];
  isCA: boolean;
}

export const PROFILE_USAGES: Readonly<Record<Profile, ProfileUsages>> = {
  root: {
    keyUsages: ['keyCertSign', 'cRLSign'],
    requiredKeyUsages: ['keyCertSign'],
    extKeyUsages: [],
    isCA: true,
  },
  intermediate: {
    keyUsages: ['keyCertSign', 'cRLSign'],
    requiredKeyUsages: ['keyCertSign'],
    extKeyUsages: [],
    isCA: true,
  },
  server: {
    keyUsages: ['digitalSignature', 'keyEncipherment'],
    // keyEncipherment is meaningless for ECDSA keys: set by cfssl, not required.
    requiredKeyUsages: ['digitalSignature'],
    extKeyUsages: ['serverAuth'],
    isCA: false,
  },
  client: {
    keyUsages: ['digitalSignature', 'keyEncipherment'],
    requiredKeyUsages: ['digitalSignature'],
    extKeyUsages: ['clientAuth'],
    isCA: false,
  },
  peer: {
    keyUsages: ['digitalSignature', 'keyEncipherment'],
    requiredKeyUsages: ['digitalSignature'],
    extKeyUsages: ['serverAuth', 'clientAuth'],
    isCA: false,
  },
};

/** The cluster's algorithms: ECDSA P-521 keys, ECDSA-SHA512 signatures. */
export const EXPECTED_KEY = { algorithm: 'ECDSA', curve: 'P-521' } as const;
export const EXPECTED_SIGNATURE = 'ecdsa-with-SHA512';
