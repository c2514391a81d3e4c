/**
 * The NGINX pane's state and keys: `w` cycles the window the tables show (1, 5, 15 min),
 * `u` shows the last lines that did not parse. Hosts are listed busiest first; the node
 * list's keys are the shell's.
 */
import type { NginxModel } from '../../../src/features/nginx/model.js';
import { WINDOWS_MIN } from '../../../src/features/nginx/model.js';
import type { Binding } from '../../keys/types.js';
import type { PaneKeyCtx } from '../types.js';

export interface NginxUi {
  /** Index into WINDOWS_MIN. */
  window: number;
  showUnparsed: boolean;
}

export const initialNginxUi: NginxUi = { window: 1, showUnparsed: false };

export type NginxDerived = { windowIndex: number; minutes: number };

export function deriveNginx(_m: NginxModel, ui: NginxUi): NginxDerived {
  const windowIndex = Math.min(Math.max(0, ui.window), WINDOWS_MIN.length - 1);
  return { windowIndex, minutes: WINDOWS_MIN[windowIndex]! };
}

export const nginxBindings: readonly Binding<NginxUi, PaneKeyCtx<NginxDerived>>[] = [
  {
    keys: ['w'],
    help: 'window of the tables: 1, 5 or 15 minutes',
    hint: (s) => `window ${WINDOWS_MIN[(s.window + 1) % WINDOWS_MIN.length]}m`,
    reduce: (s) => [{ ...s, window: (s.window + 1) % WINDOWS_MIN.length }],
  },
  {
    keys: ['u'],
    help: 'show / hide the last log lines that did not parse',
    hint: (s) => (s.showUnparsed ? 'hide unparsed' : 'unparsed lines'),
    reduce: (s) => [{ ...s, showUnparsed: !s.showUnparsed }],
  },
];
