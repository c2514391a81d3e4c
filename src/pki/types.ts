/** Parsed certificate facts, independent of the parsing library. Dates are epoch ms. */

export interface CertSummary {
  subject: string;
  commonName?: string;
  organizations: string[];
  issuer: string;
  serial: string;
  notBefore: number;
  notAfter: number;
  /** SHA-256 of the DER, lowercase hex. */
  fingerprint: string;
  /** e.g. `ECDSA`, `RSA`, `Ed25519`. */
  keyAlgorithm: string;
  /** e.g. `P-521` for ECDSA keys. */
  curve?: string;
  /** e.g. `ecdsa-with-SHA512`. */
  signatureAlgorithm: string;
  dnsNames: string[];
  ipAddresses: string[];
  isCA: boolean;
  pathLen?: number;
  keyUsages: string[];
  extKeyUsages: string[];
  /** SHA-256 of the DER SubjectPublicKeyInfo, lowercase hex (what a node's `status` reports for its key file). */
  spkiSha256?: string;
  /** Subject Key Identifier, lowercase hex. */
  subjectKeyId?: string;
  /** Authority Key Identifier (keyIdentifier), lowercase hex. */
  authorityKeyId?: string;
  /**
   * The certificate's DER, for signature verification (src/pki/verify.ts). Never
   * serialised: JSON output goes through src/pki/report.ts, which leaves it out.
   */
  der?: Uint8Array;
}

export interface PemBlockError {
  /** 1-based index of the block in the file (0 when the file itself is unusable). */
  block: number;
  message: string;
}

/** One certificate file as read from a node. */
export interface CertFile {
  node: string;
  path: string;
  /** Certificates in file order (leaf first in a chain file). */
  certs: CertSummary[];
  /** Blocks that failed to parse, or a whole-file problem (empty, no PEM, truncated). */
  errors: PemBlockError[];
  /**
   * Private-key blocks in the file (key material where certificates belong: the `keys`
   * checks report it with the file's mode). Absent when there are none.
   */
  privateKeyBlocks?: PrivateKeyBlock[];
}

/** A private-key PEM block found in a certificate file. Its content is not kept. */
export interface PrivateKeyBlock {
  /** 1-based index of the block in the file. */
  block: number;
  /** e.g. `EC PRIVATE KEY`, `PRIVATE KEY`, `ENCRYPTED PRIVATE KEY`. */
  label: string;
}

export type Severity = 'critical' | 'warning' | 'info';

/** One finding of src/pki/checks/ids.ts. */
export interface PkiCheck {
  /** Stable id, e.g. `expired`, `key-mismatch` (the table is in checks/ids.ts). */
  id: string;
  severity: Severity;
  node: string;
  path: string;
  /** One line: what is wrong and why it matters. */
  message: string;
  /** The certificate the finding is about, when there is one. */
  fingerprint?: string;
}

/** One file as a node's `status` script reports it (nix/pki/status; JSON `version: 1`). */
export interface PkiStatusFile {
  path: string;
  kind: 'cert' | 'key' | 'pub' | 'other';
  exists: boolean;
  /** Permission bits, e.g. 0o600 (from the `"0600"` string). */
  mode?: number;
  owner?: string;
  group?: string;
  size?: number;
  /** SHA-256 (hex) of the DER SubjectPublicKeyInfo of the key, first certificate or public key. */
  pubkeySha256: string | null;
  /**
   * A public-key file (kind `pub`): the SHA-256 of every public key in it, in file order
   * (a --service-account-key-file holds several during a rotation). Absent: only the first.
   */
  pubkeysSha256?: string[];
  error?: string;
}

export interface PkiStatus {
  version: 1;
  node: string;
  pkiDir: string;
  files: PkiStatusFile[];
}
