/**
 * Services of every namespace (`/api/v1/services`), reduced to their VIPs and what decides
 * whether Cilium's BGP control plane advertises them (parse/service.ts). Store id
 * `kube.services`; read by the BGP model to compare the LoadBalancer VIPs a selected
 * Service holds with those the agent advertises.
 */
import { parseServiceVips } from '../parse/service.js';
import type { KubeSection, KubeServiceVips } from '../types.js';
import type { KubeWatchDef } from './kube-watch.js';
import { ListSection, listWatcher } from './list.js';
import { byName, listSection } from './sections.js';

export const SERVICES = {
  storeId: 'kube.services',
  create: (ctx) =>
    new ListSection<KubeServiceVips, readonly KubeServiceVips[]>(
      listWatcher<KubeServiceVips>(
        ctx,
        { path: '/api/v1/services', ref: { resource: 'services' }, map: parseServiceVips },
        ctx.limits.maxServices,
      ),
      (st, noRoute) => listSection(st, noRoute, byName),
    ),
} as const satisfies KubeWatchDef<KubeSection<readonly KubeServiceVips[]>>;
