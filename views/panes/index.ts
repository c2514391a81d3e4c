/**
 * Every pane, in tab order (keys 1–8). A pane is its folder and one line here; the tabs,
 * the keys, the hint bar, the help overlay, the status line and the `:` palette all loop
 * over this list.
 */
import { flowsPane } from './flows/index.js';
import { overviewPane } from './overview/index.js';
import { pkiPane } from './pki/index.js';
import { placeholderPane } from './placeholder/Pane.js';
import { rotationPane } from './rotation/index.js';
import type { AnyPane, PaneId } from './types.js';

export const PANES: readonly AnyPane[] = [
  overviewPane,
  pkiPane,
  rotationPane,
  flowsPane,
  placeholderPane({
    id: 'bgp',
    key: '5',
    title: 'BGP',
    what: "Cilium's BGP peers per node and the upstream router's view (GoBGP or BIRD): state, uptime, prefixes, VIPs, flaps.",
    source: 'Cilium agent API and router (issue: BGP)',
  }),
  placeholderPane({
    id: 'nginx',
    key: '6',
    title: 'NGINX',
    what: 'ingress-nginx cache hit ratio and HIT/MISS/EXPIRED/STALE/BYPASS counts per host from access logs, request rate, status classes, cache size.',
    source: 'ingress-nginx logs (issue: NGINX cache)',
  }),
  placeholderPane({
    id: 'mtu',
    key: '7',
    title: 'MTU',
    what: 'Interface MTU against the 9216 target per node and role, Cilium device MTU, and a node×node path-MTU probe matrix.',
    source: 'ip link and ping probes (issue: MTU)',
  }),
  placeholderPane({
    id: 'jobs',
    key: '8',
    title: 'Jobs',
    what: 'Running and past actions (rotate, rebuild, addon sync) with step progress, streamed output and results, and the audit log.',
    source: 'action runner (issue: actions)',
  }),
];

export const paneIndex = (id: PaneId): number => PANES.findIndex((p) => p.id === id);

/** The pane with this id (the first pane for an id the registry does not have). */
export const paneById = (id: PaneId): AnyPane => PANES.find((p) => p.id === id) ?? PANES[0]!;
