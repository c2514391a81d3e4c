/**
 * The zod schema of k8ops.yaml (the file as written: camelCase keys, durations as strings,
 * optional sections). Every object is strict: an unknown key is an error, so a typo is
 * never silently ignored. Value checks use validate.ts and duration.ts and produce
 * complete messages (`invalid host "a;b": contains ";" …`); generic issues (wrong type,
 * unknown key, missing field) are worded by load.ts, which knows the allowed keys from
 * `ALLOWED_KEYS` below.
 *
 * Optional fields accept `null` as "not set", so a section whose keys are all commented
 * out (`kube:` followed by nothing) is fine. Defaults are applied by load.ts from
 * `DEFAULTS`, not here.
 */

import * as z from 'zod';
import { DURATION_EXAMPLES, parseDuration } from './duration.js';
import type { BgpRouterKind, HubbleSource, Role } from './types.js';
import {
  type Check,
  checkHost,
  checkIpLiteral,
  checkLocalPath,
  checkNodeName,
  checkPort,
  checkRemotePath,
  checkUser,
  parseHostPort,
  parseJumpList,
  parseJumpSpec,
} from './validate.js';

export { DEFAULTS } from './defaults.js';

/**
 * The name in hubble-relay's server certificate by default: the Cilium chart's
 * `hubble.relay.tls.server.relayName` (its generated certificate is `*.hubble-relay.cilium.io`).
 */
export const RELAY_SERVER_NAME = 'ui.hubble-relay.cilium.io';

export const ROLE_VALUES = ['control-plane', 'worker', 'etcd'] as const satisfies readonly Role[];
export const BGP_ROUTER_KINDS = ['gobgp', 'bird'] as const satisfies readonly BgpRouterKind[];
// Compile-time check that the tuples list every member of the unions in types.ts.
const _allRoles: Record<Exclude<Role, (typeof ROLE_VALUES)[number]>, never> = {};
const _allKinds: Record<Exclude<BgpRouterKind, (typeof BGP_ROUTER_KINDS)[number]>, never> = {};
void _allRoles;
void _allKinds;

export const MTU_MIN = 68;
export const MTU_MAX = 65535;

// ---------------------------------------------------------------------------------------
// Field schemas

const show = (v: unknown): string => JSON.stringify(v);

/** A string checked by a validate.ts check; the message names the field kind and value. */
function checked(what: string, check: (v: unknown) => Check) {
  return z.string().superRefine((value, ctx) => {
    const c = check(value);
    if (!c.ok)
      ctx.addIssue({ code: 'custom', message: `invalid ${what} ${show(value)}: ${c.reason}` });
  });
}

const nodeName = checked('node name', checkNodeName);
const clusterName = checked('cluster name', checkNodeName);
const host = checked('host', checkHost);
const user = checked('user', checkUser);
const remotePath = checked('path', checkRemotePath);
const localPath = checked('path', checkLocalPath);
const ipLiteral = checked('address', checkIpLiteral);

const CONTROL = /[\u0000-\u001f\u007f]/;
const kubeContext = z.string().superRefine((value, ctx) => {
  if (value === '' || CONTROL.test(value)) {
    ctx.addIssue({
      code: 'custom',
      message: `invalid context ${show(value)}: expected a kubeconfig context name`,
    });
  }
});

const NGINX_ZONE = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/;
const cacheZone = z.string().superRefine((value, ctx) => {
  if (!NGINX_ZONE.test(value)) {
    ctx.addIssue({
      code: 'custom',
      message: `invalid cache zone ${show(value)}: expected an nginx keys_zone name of letters, digits, "_", "." and "-"`,
    });
  }
});

const port = z.number().superRefine((value, ctx) => {
  const c = checkPort(value);
  if (!c.ok) ctx.addIssue({ code: 'custom', message: `invalid port ${value}: ${c.reason}` });
});

const nodeIndex = z.number().superRefine((value, ctx) => {
  if (!Number.isInteger(value) || value < 0) {
    ctx.addIssue({
      code: 'custom',
      message: `invalid index ${value}: expected a whole number ≥ 0`,
    });
  }
});

const targetMtu = z.number().superRefine((value, ctx) => {
  if (!Number.isInteger(value) || value < MTU_MIN || value > MTU_MAX) {
    ctx.addIssue({
      code: 'custom',
      message: `invalid MTU ${value}: expected a whole number ${MTU_MIN}..${MTU_MAX}`,
    });
  }
});

function describeNonString(value: unknown): string {
  if (typeof value === 'number') return `number ${value}`;
  if (typeof value === 'boolean') return `boolean ${value}`;
  if (Array.isArray(value)) return 'a list';
  if (value !== null && typeof value === 'object') return 'a mapping';
  return String(value);
}

/** Checks one duration value; adds an issue and returns undefined when it is bad. */
function durationMs(
  value: unknown,
  ctx: z.RefinementCtx,
  min: number,
  auto: boolean,
): number | undefined {
  const alt = auto ? '"auto" or ' : '';
  if (typeof value !== 'string') {
    const hint = typeof value === 'number' ? ` (add a unit: ${value}s, ${value}m, ${value}h…)` : '';
    ctx.addIssue({
      code: 'custom',
      message: `expected ${alt}a duration such as 30m, 1h30m or 4d16h, got ${describeNonString(value)}${hint}`,
    });
    return undefined;
  }
  const r = parseDuration(value);
  if (!r.ok) {
    const expected = `expected ${auto ? '"auto" or a duration such as' : 'e.g.'} ${DURATION_EXAMPLES}`;
    ctx.addIssue({
      code: 'custom',
      message: `invalid duration ${show(value)}: ${r.error.reason}; ${expected}`,
    });
    return undefined;
  }
  if (r.ms < min) {
    ctx.addIssue({
      code: 'custom',
      message: `invalid duration ${show(value)}: must be greater than zero`,
    });
    return undefined;
  }
  return r.ms;
}

/** A duration string (`30m`, `4d16h`) → milliseconds, at least `min`. */
function duration(min: number) {
  return z
    .unknown()
    .transform((value, ctx): number => durationMs(value, ctx, min, false) ?? z.NEVER);
}

/** `auto` or a positive duration. */
const durationOrAuto = z.unknown().transform((value, ctx): number | 'auto' => {
  if (value === 'auto') return 'auto';
  return durationMs(value, ctx, 1, true) ?? z.NEVER;
});

/**
 * ProxyJump chain: a list of hops, or one string in OpenSSH's comma form (`"a,b"`);
 * `none` (or `[]`) means no jump host. Each hop is `[user@]host[:port]`.
 */
const jump = z.unknown().transform((value, ctx): string[] => {
  if (typeof value === 'string') {
    const r = parseJumpList(value);
    if (r.ok) return r.specs;
    const spec = value.split(',')[r.index]?.trim() ?? value;
    ctx.addIssue({ code: 'custom', message: `invalid jump host ${show(spec)}: ${r.reason}` });
    return z.NEVER;
  }
  if (Array.isArray(value)) {
    const specs: string[] = [];
    for (const [i, item] of value.entries()) {
      if (typeof item !== 'string') {
        ctx.addIssue({
          code: 'custom',
          path: [i],
          message: `expected a jump host string like ops@bastion:22, got ${describeNonString(item)}`,
        });
        continue;
      }
      const r = parseJumpSpec(item);
      if (r.ok) specs.push(item);
      else
        ctx.addIssue({
          code: 'custom',
          path: [i],
          message: `invalid jump host ${show(item)}: ${r.reason}`,
        });
    }
    return specs;
  }
  ctx.addIssue({
    code: 'custom',
    message: `expected a jump host, a comma-separated chain or a list of hops, got ${describeNonString(value)}`,
  });
  return z.NEVER;
});

// ---------------------------------------------------------------------------------------
// Sections

const sshOverrideShape = {
  user: user.nullish(),
  jump: jump.nullish(),
  knownHosts: localPath.nullish(),
  identity: localPath.nullish(),
  port: port.nullish(),
  connectTimeout: duration(1).nullish(),
};

const nodeShape = {
  name: nodeName,
  index: nodeIndex.nullish(),
  host: host.nullish(),
  addresses: z.array(ipLiteral).nullish(),
  roles: z.array(z.enum(ROLE_VALUES)).min(1),
  ssh: z.strictObject(sshOverrideShape).nullish(),
};

const sshShape = sshOverrideShape;

const kubeShape = {
  kubeconfig: localPath.nullish(),
  context: kubeContext.nullish(),
  tunnel: z.boolean().nullish(),
};

const pkiShape = {
  dir: remotePath.nullish(),
  signer: z.string().nullish(),
  rootOffline: z.boolean().nullish(),
};

const rotationShape = {
  renewBefore: durationOrAuto.nullish(),
  spread: duration(0).nullish(),
  cpGap: duration(0).nullish(),
  minRemaining: duration(0).nullish(),
  /** An intermediate's successor is in every bundle this long before it signs (default 24 h). */
  bundleLead: duration(0).nullish(),
  /** Old service-account public keys stay trusted this long after the switch (default 48 h). */
  saOverlap: duration(0).nullish(),
};

const bgpRouterShape = {
  name: nodeName,
  kind: z.enum(BGP_ROUTER_KINDS),
  host: host.nullish(),
  /** BIRD: the control socket (`birdc -s`); default birdc's own. */
  socket: remotePath.nullish(),
  /** GoBGP: the daemon's gRPC API as host:port (`gobgp -u -p`); default gobgp's own. */
  api: z
    .string()
    .superRefine((v, ctx) => {
      const r = parseHostPort(v);
      if (!r.ok)
        ctx.addIssue({
          code: 'custom',
          message: `invalid api address ${show(v)}: ${r.reason}; expected host:port, e.g. 127.0.0.1:50051`,
        });
    })
    .nullish(),
};

/** hubble-relay's server TLS (Helm `hubble.relay.tls.server.enabled`): files on this machine. */
const relayTlsShape = {
  /** CA bundle that signed relay's server certificate (`hubble-relay-server-certs` ca.crt). */
  ca: localPath,
  /** The name relay's certificate is checked against (Helm `hubble.relay.tls.server.relayName`). */
  serverName: checked('server name', checkHost).nullish(),
  /** Client certificate and key, when relay requires mTLS (`hubble.relay.tls.server.mtls`). */
  cert: localPath.nullish(),
  key: localPath.nullish(),
};

const relayTls = z.strictObject(relayTlsShape).superRefine((value, ctx) => {
  if ((value.cert == null) !== (value.key == null))
    ctx.addIssue({
      code: 'custom',
      message: 'set both cert and key (a client certificate for mTLS), or neither',
    });
});

const hubbleShape = {
  relay: z.string().nullish(),
  socket: remotePath.nullish(),
  tls: relayTls.nullish(),
};

const hubble = z.strictObject(hubbleShape).transform((value, ctx): HubbleSource => {
  const relay = value.relay ?? undefined;
  const socket = value.socket ?? undefined;
  if (value.tls != null && relay === undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['tls'],
      message:
        'tls applies to hubble-relay only: set relay, or remove tls (the agent socket has no TLS)',
    });
    return z.NEVER;
  }
  if (relay !== undefined && socket !== undefined) {
    ctx.addIssue({
      code: 'custom',
      message:
        'set either relay (host:port of hubble-relay) or socket (path on each node), not both',
    });
    return z.NEVER;
  }
  if (relay !== undefined) {
    const r = parseHostPort(relay);
    if (!r.ok) {
      ctx.addIssue({
        code: 'custom',
        path: ['relay'],
        message: `invalid relay address ${show(relay)}: ${r.reason}; expected host:port, e.g. hubble-relay.kube-system.svc:80 or 10.77.0.11:4245`,
      });
      return z.NEVER;
    }
    const t = value.tls;
    if (!t) return { kind: 'relay', address: relay };
    return {
      kind: 'relay',
      address: relay,
      tls: {
        ca: t.ca,
        serverName: t.serverName ?? RELAY_SERVER_NAME,
        ...(t.cert != null && t.key != null ? { cert: t.cert, key: t.key } : {}),
      },
    };
  }
  if (socket !== undefined) return { kind: 'node-socket', socket };
  ctx.addIssue({
    code: 'custom',
    message:
      'set relay (host:port of hubble-relay) or socket (path of the hubble socket on each node)',
  });
  return z.NEVER;
});

const networkShape = {
  targetMtu: targetMtu.nullish(),
  bgpRouters: z.array(z.strictObject(bgpRouterShape)).nullish(),
  hubble: hubble.nullish(),
};

const ingressShape = {
  namespace: checked('namespace', checkNodeName).nullish(),
  cacheZone: cacheZone.nullish(),
  logFile: z
    .string()
    .regex(/^\/[A-Za-z0-9._\-/]+$/, 'must be an absolute path of plain characters')
    .refine((p) => !p.split('/').includes('..'), 'must not contain ..')
    .nullish(),
  logNodes: z.array(nodeName).nullish(),
};

const addonsShape = {
  manifest: localPath.nullish(),
  /**
   * The nodes a sync applies its pins on (nixos-rebuild switch): those running
   * kube-addon-manager (default: the control-plane nodes, as nix/lib/pki-options.nix enables it).
   */
  applyOn: z.array(nodeName).min(1).nullish(),
  /** How long a sync waits for the deployed versions to converge after the rebuild (default 10m). */
  convergeTimeout: duration(1000).nullish(),
};

/**
 * A flake reference for nixos-rebuild (`.`, `/srv/cluster`, `github:org/repo`,
 * `git+ssh://…?ref=main`): no blanks, quotes or control characters, never an option,
 * no `#` (k8ops appends `#<node>`).
 */
const FLAKE_REF = /^[A-Za-z0-9_./:@?=&%+~,-]+$/;
const flakeRef = z.string().superRefine((value, ctx) => {
  if (!FLAKE_REF.test(value) || value.startsWith('-') || value.length > 512) {
    ctx.addIssue({
      code: 'custom',
      message: `invalid flake ${show(value)}: expected a flake reference without blanks, quotes, '#' or a leading '-'`,
    });
  }
});

const rebuildShape = {
  flake: flakeRef.nullish(),
  runOn: z.enum(['local', 'node']).nullish(),
  /** One node's nixos-rebuild at most this long (default 1h). */
  timeout: duration(1000).nullish(),
};

const rootShape = {
  cluster: clusterName,
  nodes: z.array(z.strictObject(nodeShape)).min(1),
  ssh: z.strictObject(sshShape).nullish(),
  kube: z.strictObject(kubeShape).nullish(),
  pki: z.strictObject(pkiShape).nullish(),
  rotation: z.strictObject(rotationShape).nullish(),
  network: z.strictObject(networkShape).nullish(),
  ingress: z.strictObject(ingressShape).nullish(),
  addons: z.strictObject(addonsShape).nullish(),
  rebuild: z.strictObject(rebuildShape).nullish(),
};

export const inventoryFileSchema = z.strictObject(rootShape);

/** The file after schema validation: values checked and converted, defaults not yet applied. */
export type InventoryFile = z.output<typeof inventoryFileSchema>;

/**
 * The keys each mapping accepts, by path pattern (list indexes written `[]`), for
 * "unknown key" messages. See `pathPattern`.
 */
export const ALLOWED_KEYS: Readonly<Record<string, readonly string[]>> = {
  '': Object.keys(rootShape),
  'nodes[]': Object.keys(nodeShape),
  'nodes[].ssh': Object.keys(sshOverrideShape),
  ssh: Object.keys(sshShape),
  kube: Object.keys(kubeShape),
  pki: Object.keys(pkiShape),
  rotation: Object.keys(rotationShape),
  network: Object.keys(networkShape),
  'network.bgpRouters[]': Object.keys(bgpRouterShape),
  'network.hubble': Object.keys(hubbleShape),
  ingress: Object.keys(ingressShape),
  addons: Object.keys(addonsShape),
  rebuild: Object.keys(rebuildShape),
};

/** `['nodes', 3, 'ssh']` → `nodes[].ssh`. */
export function pathPattern(path: readonly PropertyKey[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += '[]';
    else out += out === '' ? String(seg) : `.${String(seg)}`;
  }
  return out;
}

/** What a list or value at a path is called in messages (`roles[0]` → "role"). */
export const NOUNS: Readonly<Record<string, string>> = {
  'nodes[].roles[]': 'role',
  'network.bgpRouters[].kind': 'router kind',
};

/** Extra words for "must not be empty" at these paths. */
export const EMPTY_LIST_HINTS: Readonly<Record<string, string>> = {
  nodes: 'at least one node is required',
  'nodes[].roles': `at least one role is required; expected some of ${ROLE_VALUES.join(', ')}`,
};
