/**
 * Open a Session on the embedded demo lab. The lab (a real P-521 PKI in the XDG cache) is
 * checked or generated in the background, so the console draws its first frame at once;
 * the nodes' sources fill in when the lab is ready, or show why it is not.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { cacheDir, stateDir } from '../config/paths.js';
import { demoAddonsManifest } from '../demo/addons.js';
import { DEMO_RELAY_SERVICE } from '../demo/flows.js';
import { demoInventory } from '../demo/inventory.js';
import { ensureDemoLab } from '../demo/lab.js';
import { routerSpec } from '../features/bgp/sources.js';
import type { SourceSet } from '../features/types.js';
import { DEMO_INGRESS_HOSTS } from '../kube/demo-ingress-log.js';
import { DemoKubeSource } from '../kube/demo-kube.js';
import type { NodeAgent } from '../nodes/agent.js';
import { deferredNodeAgent } from '../nodes/deferred-agent.js';
import { DemoNodeAgent } from '../nodes/demo-agent.js';
import { createSession, type Session } from './session.js';

export interface DemoSessionOptions {
  readOnly: boolean;
  /** Lab directory; default `$XDG_CACHE_HOME/k8ops/demo-lab`. */
  dir?: string;
  /** Progress lines (not while the console owns the screen). */
  log?: (line: string) => void;
  /** The features whose sources run (default: every feature). */
  features?: readonly SourceSet[];
  /** Jobs and audit log of the demo; default `$XDG_STATE_HOME/k8ops/demo` (apart from a real cluster's). */
  stateDir?: string;
}

/** Where the demo lab's jobs and audit log live: apart from a real cluster's. */
export const demoStateDir = (env: NodeJS.ProcessEnv = process.env): string =>
  join(stateDir(env), 'demo');

export class DemoLabError extends Error {
  readonly kind = 'demo-lab';
}

/** The demo's addon manifest beside the lab (the lab directory may be regenerated). */
function writeDemoManifest(path: string): string {
  const text = demoAddonsManifest();
  try {
    if (readFileSync(path, 'utf8') === text) return path;
  } catch {
    // not written yet
  }
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text, { mode: 0o644 });
  return path;
}

export function openDemoSession(opts: DemoSessionOptions): Session {
  const dir = opts.dir ?? join(cacheDir(), 'demo-lab');
  const inventory = demoInventory();
  inventory.addons = { manifest: writeDemoManifest(`${dir}.addons.json`) };
  const lab = ensureDemoLab({ dir, inventory, log: opts.log }).catch((e: unknown) => {
    throw new DemoLabError(`demo lab in ${dir}: ${e instanceof Error ? e.message : String(e)}`);
  });
  const agents = new Map<string, NodeAgent>(
    inventory.nodes.map((n) => [
      n.name,
      deferredNodeAgent(
        n,
        lab.then((l) => new DemoNodeAgent(n, l.dir, { inventory })),
      ),
    ]),
  );
  const routerAgents = new Map<string, NodeAgent>(
    inventory.network.bgpRouters.map((r) => [
      r.name,
      deferredNodeAgent(
        routerSpec(r),
        lab.then((l) => new DemoNodeAgent(routerSpec(r), l.dir, { inventory })),
      ),
    ]),
  );
  const kube = new DemoKubeSource(inventory.nodes, 'demo-lab', { traffic: true });
  // hubble-relay's Service, which the Flows pane resolves to dial relay through a node.
  kube.setServices([
    { ...DEMO_RELAY_SERVICE, ports: DEMO_RELAY_SERVICE.ports.map((p) => ({ ...p })) },
  ]);
  // Loaded when used: the generator needs @peculiar/x509, which a headless command never loads.
  kube.setAcmeCertificatesFrom(
    import('../demo/acme.js').then((m) => m.demoAcmeCertificates(DEMO_INGRESS_HOSTS, Date.now())),
  );
  return createSession({
    mode: 'demo',
    inventory,
    agents,
    routerAgents,
    kube,
    readOnly: opts.readOnly,
    stateDir: opts.stateDir ?? demoStateDir(),
    ...(opts.features ? { features: opts.features } : {}),
  });
}
