/**
 * The signature verdicts on disk ($XDG_CACHE_HOME/k8ops/pki-verdicts.json), so that a
 * later `k8ops certs` (a cron job feeding node-exporter, say) does not verify the same
 * P-521 signatures again: a verdict depends only on (certificate, issuer key), both named
 * by their SHA-256 fingerprints, and stays true until the certificate expires.
 *
 * Only positive verdicts are stored; a bad signature is always verified again. The file is
 * written atomically, mode 0600, in the user's own cache directory: whoever can write there
 * can already replace k8ops itself. K8OPS_NO_VERDICT_CACHE=1 turns it off.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { adoptGoodVerdicts, goodVerdicts } from './verify.js';

export const VERDICT_CACHE_FILE = 'pki-verdicts.json';
const MAX_ENTRIES = 100_000;

interface CacheFile {
  version: 1;
  /** `<child fp>:<issuer fp>` → the child's notAfter, epoch ms. */
  verdicts: Record<string, number>;
}

/** Load the cache (a missing or damaged file is an empty cache). Returns how many were adopted. */
export async function loadVerdictCache(file: string, now: number = Date.now()): Promise<number> {
  try {
    const raw = JSON.parse(await readFile(file, 'utf8')) as CacheFile;
    if (raw?.version !== 1 || typeof raw.verdicts !== 'object' || raw.verdicts === null) return 0;
    return adoptGoodVerdicts(
      Object.entries(raw.verdicts).filter((e): e is [string, number] => typeof e[1] === 'number'),
      now,
    );
  } catch {
    return 0;
  }
}

/** Write every positive verdict still valid at `now` (best effort: errors are ignored). */
export async function saveVerdictCache(file: string, now: number = Date.now()): Promise<void> {
  const entries = goodVerdicts()
    .filter(([, until]) => until > now)
    .sort((a, b) => b[1] - a[1])
    .slice(0, MAX_ENTRIES);
  const doc: CacheFile = { version: 1, verdicts: Object.fromEntries(entries) };
  const tmp = `${file}.tmp-${process.pid}`;
  try {
    await mkdir(dirname(file), { recursive: true, mode: 0o700 });
    await writeFile(tmp, JSON.stringify(doc), { mode: 0o600 });
    await rename(tmp, file);
  } catch {
    // a cache: never fail the command for it
  }
}
