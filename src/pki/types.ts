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
}
