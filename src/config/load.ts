/**
 * Loading k8ops.yaml: YAML → schema → cross-field checks → `Inventory` with defaults.
 *
 * Every problem becomes an `InventoryIssue` with the line and column of the offending YAML
 * node (or of the nearest existing parent when the field is missing). All problems are
 * collected, not just the first. `parseInventory` is pure; `loadInventory` only adds the
 * file read.
 */

import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, resolve } from 'node:path';
import { LineCounter, parseDocument, type YAMLError, type YAMLWarning } from 'yaml';
import type * as z from 'zod';
import { crossCheck } from './checks.js';
import { formatPath, type InventoryIssue, locate, type PathSegment, sortIssues } from './issues.js';
import { expandPath } from './paths.js';
import {
  ALLOWED_KEYS,
  DEFAULTS,
  EMPTY_LIST_HINTS,
  type InventoryFile,
  inventoryFileSchema,
  NOUNS,
  pathPattern,
} from './schema.js';
import type { HubbleSource, Inventory, NodeSpec, SshDefaults } from './types.js';

export { formatIssue, type InventoryIssue } from './issues.js';

export type LoadResult =
  | { ok: true; inventory: Inventory; warnings: InventoryIssue[] }
  | { ok: false; errors: InventoryIssue[] };

export interface LoadOptions {
  /** Home directory for `~` expansion (default: the user's). */
  home?: string;
}

/** Inventories are small; anything bigger is a mistake (and a bounded read). */
export const MAX_INVENTORY_BYTES = 1024 * 1024;

/**
 * Reads and parses an inventory file. Never throws; read errors become issues. Pipes work
 * too (`--inventory <(sops -d k8ops.yaml)`); every read is bounded by MAX_INVENTORY_BYTES.
 */
export async function loadInventory(path: string, options: LoadOptions = {}): Promise<LoadResult> {
  const fileIssue = (message: string): LoadResult => ({
    ok: false,
    errors: [{ file: path, line: 0, column: 0, path: '', message }],
  });
  let bytes: Buffer;
  try {
    bytes = await readBounded(path);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ENOENT') return fileIssue('no such file');
    if (err.code === 'EACCES') return fileIssue('permission denied');
    if (err.code === 'EISDIR')
      return fileIssue('is a directory, expected an inventory file (k8ops.yaml)');
    if (err.code === 'EFBIG') return fileIssue(err.message);
    return fileIssue(`cannot read: ${err.message}`);
  }
  const r = parseInventory(bytes.toString('utf8'), path, options);
  // What was loaded, to tell later whether the file changed since (src/config/save.ts).
  if (r.ok) r.inventory.sourceDigest = inventoryDigest(bytes);
  return r;
}

/** SHA-256 of an inventory file's bytes, hex. */
export const inventoryDigest = (bytes: Uint8Array): string =>
  createHash('sha256').update(bytes).digest('hex');

/** The file's bytes, at most MAX_INVENTORY_BYTES (EFBIG past that; EISDIR for a directory). */
export async function readBounded(path: string): Promise<Buffer> {
  const fh = await open(path, 'r');
  try {
    if ((await fh.stat()).isDirectory()) {
      throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    }
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const buf = Buffer.alloc(64 * 1024);
      const { bytesRead } = await fh.read(buf, 0, buf.length, null);
      if (bytesRead === 0) break;
      total += bytesRead;
      if (total > MAX_INVENTORY_BYTES) {
        throw Object.assign(
          new Error(`is larger than ${MAX_INVENTORY_BYTES} bytes; an inventory is much smaller`),
          { code: 'EFBIG' },
        );
      }
      chunks.push(buf.subarray(0, bytesRead));
    }
    return Buffer.concat(chunks);
  } finally {
    await fh.close();
  }
}

/**
 * Parses inventory text. `sourcePath` names the file in issues and anchors relative paths
 * in the inventory (`addons.manifest`, `ssh.identity`, …); a name in angle brackets such as
 * `<demo>` anchors them at the current directory instead.
 */
export function parseInventory(
  text: string,
  sourcePath: string,
  options: LoadOptions = {},
): LoadResult {
  const home = options.home ?? homedir();
  const pseudo = sourcePath.startsWith('<');
  const source = pseudo ? sourcePath : resolve(sourcePath);
  const baseDir = pseudo ? process.cwd() : dirname(source);

  const lineCounter = new LineCounter();
  const doc = parseDocument(text.replace(/^\uFEFF/, ''), {
    lineCounter,
    prettyErrors: false,
    uniqueKeys: true,
    merge: true,
  });
  const at = (e: YAMLError | YAMLWarning): InventoryIssue => {
    const pos = lineCounter.linePos(e.pos[0]);
    return {
      file: sourcePath,
      line: pos.line,
      column: pos.col,
      path: '',
      message: `YAML: ${e.message}`,
    };
  };
  if (doc.errors.length > 0) {
    // One syntax error per line: after the first, the parser often reports every following
    // token of that line as unexpected too.
    const seen = new Set<number>();
    const errors = sortIssues(doc.errors.map(at)).filter(
      (e) => !seen.has(e.line) && seen.add(e.line),
    );
    return { ok: false, errors };
  }
  const yamlWarnings = doc.warnings.map(at);

  if (doc.contents === null) {
    return {
      ok: false,
      errors: [
        {
          file: sourcePath,
          line: 1,
          column: 1,
          path: '',
          message:
            'the file is empty; expected a mapping with at least cluster and nodes (see k8ops.example.yaml)',
        },
      ],
    };
  }

  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    return {
      ok: false,
      errors: [
        {
          file: sourcePath,
          line: 1,
          column: 1,
          path: '',
          message: `YAML: ${(e as Error).message}`,
        },
      ],
    };
  }

  const issue = (path: readonly PathSegment[], message: string, key = false): InventoryIssue => {
    const pos = locate(doc, lineCounter, path, { key });
    return {
      file: sourcePath,
      line: pos.line,
      column: pos.column,
      path: formatPath(path),
      message,
    };
  };

  const errors: InventoryIssue[] = [];
  const warnings: InventoryIssue[] = [...yamlWarnings];

  const parsed = inventoryFileSchema.safeParse(raw);
  if (!parsed.success) {
    for (const zi of parsed.error.issues) errors.push(...describeZodIssue(zi, raw, issue));
  }
  for (const f of crossCheck(raw, (path) => locate(doc, lineCounter, path))) {
    (f.severity === 'error' ? errors : warnings).push(issue(f.path, f.message));
  }

  if (errors.length > 0 || !parsed.success) {
    return { ok: false, errors: sortIssues(errors) };
  }
  const inventory = buildInventory(parsed.data, source, (p) => expandPath(p, home, baseDir));
  return { ok: true, inventory, warnings: sortIssues(warnings) };
}

// ---------------------------------------------------------------------------------------
// Zod issues → messages

function toSegments(path: readonly PropertyKey[]): PathSegment[] {
  return path.map((s) => (typeof s === 'number' ? s : String(s)));
}

function valueAt(raw: unknown, path: readonly PathSegment[]): unknown {
  let v: unknown = raw;
  for (const seg of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string | number, unknown>)[seg];
  }
  return v;
}

function describeValue(v: unknown): string {
  if (v === null || v === undefined) return 'nothing';
  if (typeof v === 'string') return `string ${JSON.stringify(v)}`;
  if (typeof v === 'number' || typeof v === 'boolean') return `${typeof v} ${v}`;
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return typeof v;
}

const EXPECTED: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  array: 'a list',
  object: 'a mapping',
};

/** Edit distance, for "did you mean" on unknown keys. */
function distance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j]!;
      prev[j] = Math.min(up + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length]!;
}

function suggest(key: string, allowed: readonly string[]): string | undefined {
  const norm = (s: string) => s.toLowerCase().replace(/[-_]/g, '');
  const exact = allowed.find((a) => norm(a) === norm(key));
  if (exact) return exact;
  let best: string | undefined;
  let bestD = Number.POSITIVE_INFINITY;
  for (const a of allowed) {
    const d = distance(norm(key), norm(a));
    if (d < bestD) {
      best = a;
      bestD = d;
    }
  }
  return best !== undefined && bestD <= Math.max(1, Math.floor(best.length / 3)) ? best : undefined;
}

type MakeIssue = (path: readonly PathSegment[], message: string, key?: boolean) => InventoryIssue;

function describeZodIssue(zi: z.core.$ZodIssue, raw: unknown, make: MakeIssue): InventoryIssue[] {
  const path = toSegments(zi.path);
  const last = path[path.length - 1];
  const pattern = pathPattern(path);
  switch (zi.code) {
    case 'invalid_type': {
      const input = valueAt(raw, path);
      const expected = EXPECTED[zi.expected] ?? zi.expected;
      if (input === undefined) {
        return [
          make(
            path,
            typeof last === 'string' ? `missing required field "${last}"` : `expected ${expected}`,
          ),
        ];
      }
      if (input === null) {
        const what = typeof last === 'string' ? `"${last}" has no value` : 'empty list item';
        return [make(path, `${what}; expected ${expected}`)];
      }
      const quote =
        zi.expected === 'string' && (typeof input === 'number' || typeof input === 'boolean')
          ? ` (quote it: "${String(input)}")`
          : '';
      return [make(path, `expected ${expected}, got ${describeValue(input)}${quote}`)];
    }
    case 'invalid_value': {
      const input = valueAt(raw, path);
      const noun = NOUNS[pattern] ?? 'value';
      const values = zi.values.map((v) => String(v)).join(', ');
      return [make(path, `unknown ${noun} ${JSON.stringify(input)}; expected one of ${values}`)];
    }
    case 'too_small': {
      if (zi.origin === 'array') {
        return [make(path, EMPTY_LIST_HINTS[pattern] ?? `"${String(last)}" must not be empty`)];
      }
      return [make(path, zi.message)];
    }
    case 'unrecognized_keys': {
      const allowed = ALLOWED_KEYS[pattern] ?? [];
      return zi.keys.map((key) => {
        const hint = suggest(key, allowed);
        const mean = hint !== undefined ? ` (did you mean "${hint}"?)` : '';
        const list = allowed.length > 0 ? `; allowed keys: ${allowed.join(', ')}` : '';
        return make([...path, key], `unknown key ${JSON.stringify(key)}${mean}${list}`, true);
      });
    }
    default:
      return [make(path, zi.message)];
  }
}

// ---------------------------------------------------------------------------------------
// Defaults

type SshOverrides = NonNullable<InventoryFile['ssh']>;

/** The hubble source, with relay's TLS files resolved like every local path of the file. */
function hubbleSource(
  h: HubbleSource | null | undefined,
  expand: (p: string) => string,
): HubbleSource {
  if (!h) return { ...DEFAULTS.network.hubble };
  if (h.kind !== 'relay' || !h.tls) return h;
  const t = h.tls;
  return {
    ...h,
    tls: {
      ...t,
      ca: expand(t.ca),
      ...(t.cert !== undefined ? { cert: expand(t.cert) } : {}),
      ...(t.key !== undefined ? { key: expand(t.key) } : {}),
    },
  };
}

function sshOverrides(s: SshOverrides, expand: (p: string) => string): Partial<SshDefaults> {
  const out: Partial<SshDefaults> = {};
  if (s.user != null) out.user = s.user;
  if (s.jump != null) out.jump = s.jump;
  if (s.knownHosts != null) out.knownHosts = expand(s.knownHosts);
  if (s.identity != null) out.identity = expand(s.identity);
  if (s.port != null) out.port = s.port;
  if (s.connectTimeout != null) out.connectTimeoutMs = s.connectTimeout;
  return out;
}

function buildInventory(
  file: InventoryFile,
  source: string,
  expand: (p: string) => string,
): Inventory {
  const nodes: NodeSpec[] = file.nodes.map((n, i) => {
    const node: NodeSpec = {
      name: n.name,
      index: n.index ?? i,
      host: n.host ?? n.name,
      addresses: n.addresses ?? [],
      roles: [...n.roles],
    };
    if (n.ssh != null) node.ssh = sshOverrides(n.ssh, expand);
    return node;
  });

  const ssh: SshDefaults = {
    jump: [...DEFAULTS.ssh.jump],
    connectTimeoutMs: DEFAULTS.ssh.connectTimeoutMs,
    ...sshOverrides(file.ssh ?? {}, expand),
  };

  const kube: Inventory['kube'] = { tunnel: file.kube?.tunnel ?? DEFAULTS.kube.tunnel };
  if (file.kube?.kubeconfig != null) kube.kubeconfig = expand(file.kube.kubeconfig);
  if (file.kube?.context != null) kube.context = file.kube.context;

  const pki: Inventory['pki'] = {
    dir: file.pki?.dir ?? DEFAULTS.pki.dir,
    rootOffline: file.pki?.rootOffline ?? DEFAULTS.pki.rootOffline,
  };
  if (file.pki?.signer != null) pki.signer = file.pki.signer;

  const rotation: Inventory['rotation'] = {
    spreadMs: file.rotation?.spread ?? DEFAULTS.rotation.spreadMs,
    cpGapMs: file.rotation?.cpGap ?? DEFAULTS.rotation.cpGapMs,
    minRemainingMs: file.rotation?.minRemaining ?? DEFAULTS.rotation.minRemainingMs,
  };
  const renew = file.rotation?.renewBefore;
  if (typeof renew === 'number') rotation.renewBeforeMs = renew;
  if (file.rotation?.bundleLead != null) rotation.bundleLeadMs = file.rotation.bundleLead;
  if (file.rotation?.saOverlap != null) rotation.saOverlapMs = file.rotation.saOverlap;

  const network: Inventory['network'] = {
    targetMtu: file.network?.targetMtu ?? DEFAULTS.network.targetMtu,
    bgpRouters: (file.network?.bgpRouters ?? []).map((r) => ({
      name: r.name,
      kind: r.kind,
      host: r.host ?? r.name,
      ...(r.socket != null ? { socket: r.socket } : {}),
      ...(r.api != null ? { api: r.api } : {}),
    })),
    hubble: hubbleSource(file.network?.hubble, expand),
  };

  const ingress: Inventory['ingress'] = {
    namespace: file.ingress?.namespace ?? DEFAULTS.ingress.namespace,
    cacheZone: file.ingress?.cacheZone ?? DEFAULTS.ingress.cacheZone,
  };
  if (file.ingress?.logFile != null) ingress.logFile = file.ingress.logFile;
  if (file.ingress?.logNodes != null) ingress.logNodes = [...file.ingress.logNodes];

  const addons: Inventory['addons'] = {};
  if (file.addons?.manifest != null) addons.manifest = expand(file.addons.manifest);
  if (file.addons?.applyOn != null) addons.applyOn = [...file.addons.applyOn];
  if (file.addons?.convergeTimeout != null) addons.convergeTimeoutMs = file.addons.convergeTimeout;

  const runOn = file.rebuild?.runOn ?? 'local';
  const rebuild: Inventory['rebuild'] = { runOn };
  if (file.rebuild?.timeout != null) rebuild.timeoutMs = file.rebuild.timeout;
  const flake = file.rebuild?.flake;
  if (flake != null)
    // A local path (`.`, `./x`, `../x`, `/x`) is resolved against the inventory's directory.
    rebuild.flake = runOn === 'local' && /^\.{0,2}(\/|$)/.test(flake) ? expand(flake) : flake;

  return {
    source,
    cluster: file.cluster,
    nodes,
    ssh,
    kube,
    pki,
    rotation,
    network,
    ingress,
    addons,
    rebuild,
  };
}
