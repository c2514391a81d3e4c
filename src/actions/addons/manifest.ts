/**
 * The addon manifest (nix/addons/addons.json): declared once, read by the Nix module
 * (nix/lib/addons.nix validates it and refuses unpinned addons) and by k8ops. Parsing is
 * pure and never throws; the checks are the same as nix/lib/addons.nix's, so
 * `k8ops addons` says before a rebuild what the evaluation would refuse.
 */
import { visible } from '../../store/sanitise.js';
import { pinDigest } from './nix-hash.js';

export const ADDON_FORMATS = ['yaml', 'helm', 'tarball', 'cli'] as const;
export type AddonFormat = (typeof ADDON_FORMATS)[number];

export interface AddonDecl {
  name: string;
  version: string;
  format: string;
  url: string;
  /** As written: Nix base32, `sha256:<base32>`, SRI, or empty (not pinned yet). */
  sha256: string;
  namespace?: string;
  note?: string;
  /** Problems of this entry (nix/lib/addons.nix's problemsOf). */
  problems: string[];
}

export type ManifestResult =
  | { ok: true; addons: AddonDecl[]; problems: string[] }
  | { ok: false; error: string };

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** Problems of one entry, worded as nix/lib/addons.nix words them. */
function problemsOf(a: Record<string, unknown>): string[] {
  const name = str(a.name);
  const version = str(a.version);
  const url = str(a.url);
  const sha = a.sha256;
  const fmt = str(a.format);
  const id = `${name ?? '?'} ${version ?? '?'}`;
  const out: string[] = [];
  if (!(name && /^[a-z0-9][a-z0-9-]*$/.test(name))) out.push(`${id}: name must be a lowercase id`);
  if (!version) out.push(`${id}: version is missing`);
  if (!url?.startsWith('https://')) out.push(`${id}: url must be an https:// URL`);
  if (url && version && !url.includes(version))
    out.push(`${id}: url does not mention version ${version} (bump both together)`);
  if (!(ADDON_FORMATS as readonly string[]).includes(fmt ?? ''))
    out.push(`${id}: format must be one of ${ADDON_FORMATS.join(', ')}`);
  if (typeof sha !== 'string' || sha === '') out.push(`${id}: sha256 is empty (not pinned yet)`);
  else if (!pinDigest(sha))
    out.push(`${id}: sha256 "${sha}" is neither a Nix base32 sha256 nor an SRI sha256-… hash`);
  if (fmt === 'helm' && typeof a.namespace !== 'string')
    out.push(`${id}: a helm addon needs a namespace`);
  if (
    fmt === 'helm' &&
    a.values !== undefined &&
    (typeof a.values !== 'object' || a.values === null || Array.isArray(a.values))
  )
    out.push(`${id}: values must be an object`);
  if (fmt === 'tarball' && !(Array.isArray(a.paths) && a.paths.length > 0))
    out.push(`${id}: a tarball addon needs \`paths\` (directories holding its manifests)`);
  if (fmt === 'cli' && typeof a.system !== 'string')
    out.push(`${id}: a cli addon needs \`system\``);
  return out.map(visible);
}

/** Parse the manifest's text. Never throws. */
export function parseManifest(text: string): ManifestResult {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    return { ok: false, error: `not JSON: ${visible((e as Error).message)}` };
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc))
    return { ok: false, error: 'not a JSON object' };
  const m = doc as Record<string, unknown>;
  const problems: string[] = [];
  if (m.version !== 1) problems.push('manifest version must be 1');
  if (!Array.isArray(m.addons)) return { ok: false, error: 'manifest has no `addons` list' };
  const addons: AddonDecl[] = [];
  for (const raw of m.addons) {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      problems.push('an entry of `addons` is not an object');
      continue;
    }
    const a = raw as Record<string, unknown>;
    const d: AddonDecl = {
      name: visible(str(a.name) ?? '?'),
      version: visible(str(a.version) ?? ''),
      format: visible(str(a.format) ?? ''),
      url: visible(str(a.url) ?? ''),
      sha256: visible(str(a.sha256) ?? ''),
      problems: problemsOf(a),
    };
    const ns = str(a.namespace);
    if (ns) d.namespace = visible(ns);
    const note = str(a.note);
    if (note) d.note = visible(note);
    addons.push(d);
  }
  const names = addons.map((a) => a.name);
  for (const n of new Set(names))
    if (names.filter((x) => x === n).length > 1)
      problems.push(`addon "${n}" is declared more than once`);
  return { ok: true, addons, problems };
}

/**
 * The URL of `decl` at another version: every occurrence of the declared version in the
 * URL replaced (GitHub release URLs carry it in the tag and often the file name). Undefined
 * when the URL does not mention the version (it could not be bumped safely).
 */
export function urlForVersion(
  decl: Pick<AddonDecl, 'url' | 'version'>,
  version: string,
): string | undefined {
  if (!decl.version || !decl.url.includes(decl.version)) return undefined;
  return decl.url.split(decl.version).join(version);
}
