/**
 * Which files of a PKI directory are certificate files k8ops may read. Key files never are:
 * private keys do not leave the node. The remote script that reads a directory in one round
 * trip (src/nodes/remote-scripts.ts, readCertDirScript) applies the same rules in sh, for
 * plain ASCII names only; a test runs both on the same names.
 */

/** Key files are never read: private keys do not leave the node. */
export function isKeyFileName(name: string): boolean {
  const n = name.toLowerCase();
  return n.endsWith('.key') || n === 'key.pem' || /[-_.]key\.pem$/.test(n);
}

/** Certificate files: `*.pem` / `*.crt` that are not key files (nor hidden). */
export function isCertFileName(name: string): boolean {
  const n = name.toLowerCase();
  if (n.startsWith('.')) return false;
  return (n.endsWith('.pem') || n.endsWith('.crt')) && !isKeyFileName(n);
}
