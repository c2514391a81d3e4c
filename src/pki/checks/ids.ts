/**
 * Every id `runChecks` can emit, in one place: its severity, the group that emits it
 * (src/pki/checks/<group>.ts) and when. The ids are stable: `k8ops certs --json`, the
 * Prometheus metrics and the README's readers rely on them. `add` takes its severity from
 * here, so an id has one severity; test/unit/pki/checks-registry.test.ts keeps this table
 * and the group files in step.
 */
import type { Severity } from '../types.js';

export interface CheckIdInfo {
  severity: Severity;
  /** The check group that emits it (its file is src/pki/checks/<group>.ts). */
  group: string;
  /** When it fires, one line. */
  when: string;
}

export const CHECK_IDS = {
  // validity
  expired: { severity: 'critical', group: 'validity', when: 'now is past notAfter' },
  'not-yet-valid': {
    severity: 'critical',
    group: 'validity',
    when: 'notBefore is more than 5 min ahead of now',
  },
  'renew-window': {
    severity: 'warning',
    group: 'validity',
    when: 'leaf: remaining ≤ renewBefore; intermediate: < one leaf lifetime + 2 d left; root: < a third of its lifetime',
  },
  'rotation-late': {
    severity: 'warning',
    group: 'validity',
    when: 'the scheduled rotation (due + node slot) leaves < minRemaining',
  },
  // algorithms
  'key-algorithm': { severity: 'warning', group: 'algorithms', when: 'not an ECDSA P-521 key' },
  'signature-algorithm': {
    severity: 'warning',
    group: 'algorithms',
    when: 'not ecdsa-with-SHA512',
  },
  // chain
  'bad-signature': {
    severity: 'critical',
    group: 'chain',
    when: 'the signature verifies with no certificate named like its issuer',
  },
  'issuer-missing': {
    severity: 'critical',
    group: 'chain',
    when: 'a leaf whose issuer is on no node (chain cannot be built)',
  },
  'self-signed': {
    severity: 'critical',
    group: 'chain',
    when: 'a self-signed certificate that is not a CA',
  },
  'issuer-not-ca': {
    severity: 'critical',
    group: 'chain',
    when: 'the issuer lacks CA:TRUE or keyCertSign, or its pathlen forbids a CA',
  },
  'outlives-issuer': {
    severity: 'critical',
    group: 'chain',
    when: "notAfter is after the issuer's notAfter (cfssl does not cap it)",
  },
  unverifiable: {
    severity: 'warning',
    group: 'chain',
    when: 'issuer found but the signature algorithm cannot be checked',
  },
  'root-unavailable': {
    severity: 'info',
    group: 'chain',
    when: 'a CA whose issuer (the offline root) is on no node: not verified up',
  },
  'wrong-ca': {
    severity: 'warning',
    group: 'chain',
    when: "issued by a CA other than the layout's (wrong trust domain)",
  },
  'chain-incomplete': {
    severity: 'warning',
    group: 'chain',
    when: 'a certificate file without its intermediate after the leaf',
  },
  'chain-order': {
    severity: 'warning',
    group: 'chain',
    when: "the certificate after the leaf is not the leaf's issuer",
  },
  // ca-constraints
  'ca-constraints': {
    severity: 'warning',
    group: 'ca-constraints',
    when: 'CA pathlen ≠ layout, CA without keyCertSign or with a restricting EKU; a CA in a leaf file',
  },
  // names
  cn: {
    severity: 'warning',
    group: 'names',
    when: 'subject CN differs from the layout (kubelet: system:node:<name>)',
  },
  o: { severity: 'warning', group: 'names', when: 'subject O differs from the layout' },
  'san-missing': {
    severity: 'warning',
    group: 'names',
    when: 'a SAN the layout requires is absent',
  },
  'san-extra': { severity: 'info', group: 'names', when: 'a SAN the layout does not list' },
  // usages
  'key-usage': {
    severity: 'warning',
    group: 'usages',
    when: 'a key usage / EKU the profile requires is absent; a leaf of no plan: no TLS use left',
  },
  'key-usage-extra': { severity: 'info', group: 'usages', when: 'an EKU beyond the profile' },
  // keys
  'key-mismatch': {
    severity: 'critical',
    group: 'keys',
    when: "the key file's public key is not the certificate's (or sa.pub ≠ key)",
  },
  'root-key-online': {
    severity: 'critical',
    group: 'keys',
    when: "the offline root's private key is on a node",
  },
  'key-mode': {
    severity: 'warning',
    group: 'keys',
    when: 'key file mode ≠ layout (or any key readable by group/others)',
  },
  'key-owner': { severity: 'warning', group: 'keys', when: 'key file owner/group ≠ layout' },
  'key-exposed': {
    severity: 'critical',
    group: 'keys',
    when: 'a private key inside a certificate file that every user can read (o+r, e.g. 0644)',
  },
  'key-in-cert-file': {
    severity: 'warning',
    group: 'keys',
    when: 'a private key inside a certificate file not readable by others (e.g. 0600)',
  },
  // bundles
  'bundle-missing-ca': {
    severity: 'warning',
    group: 'bundles',
    when: 'a trust bundle lacks a layout CA or a CA that signs certificates in use',
  },
  'bundle-foreign-ca': {
    severity: 'warning',
    group: 'bundles',
    when: "a trust bundle holds the root, another domain's CA, or a non-CA",
  },
  // files
  'missing-file': {
    severity: 'warning',
    group: 'files',
    when: 'a certificate, key, bundle or public key of the plan is absent',
  },
  'unknown-file': {
    severity: 'warning',
    group: 'files',
    when: 'a file in the PKI directory that the layout does not list (a named node)',
  },
  'unlisted-file': {
    severity: 'info',
    group: 'files',
    when: '`--path` without `--node`: a file the layout does not list (names not judged)',
  },
  unparseable: {
    severity: 'warning',
    group: 'files',
    when: 'garbage, truncated PEM, or a non-certificate block (other than a private key) in a cert file',
  },
  'status-error': {
    severity: 'warning',
    group: 'files',
    when: 'the node could not read a file for its status',
  },
  'previous-mismatch': {
    severity: 'warning',
    group: 'files',
    when: 'the previous pair kept by `install` (.prev) does not match: no rollback',
  },
  'previous-file': {
    severity: 'info',
    group: 'files',
    when: 'a previous pair kept by `install` (rollback material)',
  },
  'status-unavailable': {
    severity: 'info',
    group: 'files',
    when: 'no status from the node: key match, modes and owners not checked',
  },
  'file-changed': {
    severity: 'info',
    group: 'files',
    when: 'the status digest of a cert file ≠ the cert read (changed in between)',
  },
  // service-account
  'sa-key-differs': {
    severity: 'warning',
    group: 'service-account',
    when: "a control-plane node's service-account signing key is not in another's sa.pub",
  },
} as const satisfies Record<string, CheckIdInfo>;

export type CheckId = keyof typeof CHECK_IDS;
