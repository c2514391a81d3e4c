import { Box, Text } from 'ink';
import type { PaneId } from '../panes.js';
import { useTheme } from '../theme.js';

/** What each pane will show, said plainly until its data source exists. No invented numbers. */
export const PANE_PROMISES: Record<
  Exclude<PaneId, 'overview'>,
  { what: string; source: string }
> = {
  pki: {
    what: 'The certificate tree root → intermediates → leaves across nodes, with live countdowns, chain and SAN checks, key↔cert match and key file modes.',
    source: 'certificate checks (issue: PKI tree)',
  },
  rotation: {
    what: 'Per-node rotation schedule from expiry, renew window and node-index jitter, as a timeline with a jitter-spread preview; R rotates the selected node.',
    source: 'rotation planner (issue: rotation)',
  },
  flows: {
    what: 'Hubble flows from the Observer gRPC API: live table, filters, drops by reason, verdict rate, top talkers.',
    source: 'Hubble (issue: flows)',
  },
  bgp: {
    what: "Cilium's BGP peers per node and the upstream router's view (GoBGP or BIRD): state, uptime, prefixes, VIPs, flaps.",
    source: 'Cilium agent API and router (issue: BGP)',
  },
  nginx: {
    what: 'ingress-nginx cache hit ratio and HIT/MISS/EXPIRED/STALE/BYPASS counts per host from access logs, request rate, status classes, cache size.',
    source: 'ingress-nginx logs (issue: NGINX cache)',
  },
  mtu: {
    what: 'Interface MTU against the 9216 target per node and role, Cilium device MTU, and a node×node path-MTU probe matrix.',
    source: 'ip link and ping probes (issue: MTU)',
  },
  jobs: {
    what: 'Running and past actions (rotate, rebuild, addon sync) with step progress, streamed output and results, and the audit log.',
    source: 'action runner (issue: actions)',
  },
};

export function PlaceholderPane({
  pane,
  width,
  height,
}: {
  pane: Exclude<PaneId, 'overview'>;
  width: number;
  height: number;
}) {
  const theme = useTheme();
  const p = PANE_PROMISES[pane];
  return (
    <Box flexDirection="column" width={width} height={height} overflow="hidden" paddingX={1}>
      <Text color={theme.warn}>No source is configured for this pane yet.</Text>
      <Text> </Text>
      <Text>{p.what}</Text>
      <Text> </Text>
      <Text color={theme.dim}>Data arrives with: {p.source}.</Text>
    </Box>
  );
}
