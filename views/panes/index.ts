/**
 * Every pane, in tab order (keys 1–8). A pane is its folder and one line here; the tabs,
 * the keys, the hint bar, the help overlay, the status line and the `:` palette all loop
 * over this list.
 */

import { bgpPane } from './bgp/index.js';
import { flowsPane } from './flows/index.js';
import { jobsPane } from './jobs/index.js';
import { mtuPane } from './mtu/index.js';
import { nginxPane } from './nginx/index.js';
import { overviewPane } from './overview/index.js';
import { pkiPane } from './pki/index.js';
import { rotationPane } from './rotation/index.js';
import type { AnyPane, PaneId } from './types.js';

export const PANES: readonly AnyPane[] = [
  overviewPane,
  pkiPane,
  rotationPane,
  flowsPane,
  bgpPane,
  nginxPane,
  mtuPane,
  jobsPane,
];

export const paneIndex = (id: PaneId): number => PANES.findIndex((p) => p.id === id);

/** The pane with this id (the first pane for an id the registry does not have). */
export const paneById = (id: PaneId): AnyPane => PANES.find((p) => p.id === id) ?? PANES[0]!;
