/** The eight panes, in tab order; keys 1–8 select them. */
export type PaneId = 'overview' | 'pki' | 'rotation' | 'flows' | 'bgp' | 'nginx' | 'mtu' | 'jobs';

export interface PaneInfo {
  id: PaneId;
  key: string;
  title: string;
}

export const PANES: readonly PaneInfo[] = [
  { id: 'overview', key: '1', title: 'Overview' },
  { id: 'pki', key: '2', title: 'PKI' },
  { id: 'rotation', key: '3', title: 'Rotation' },
  { id: 'flows', key: '4', title: 'Flows' },
  { id: 'bgp', key: '5', title: 'BGP' },
  { id: 'nginx', key: '6', title: 'NGINX' },
  { id: 'mtu', key: '7', title: 'MTU' },
  { id: 'jobs', key: '8', title: 'Jobs' },
];

export const paneIndex = (id: PaneId): number => PANES.findIndex((p) => p.id === id);
