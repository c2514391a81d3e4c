/**
 * Every action the console and the commands can start, by name: one line per action.
 * The session looks an action up here (session.jobs.prepare), so a pane's key only builds
 * an ActionRequest (`{ action: 'rotate', targets: [node] }`).
 */
import { addonSyncAction } from './addons/action.js';
import { demoNoopAction } from './demo-noop/index.js';
import { rebuildAction } from './rebuild/action.js';
import { rotateAction } from './rotate/prepare.js';
import { rotationSettingsAction } from './rotation-settings/index.js';
import type { ActionFactory, JobAction } from './types.js';

export const ACTIONS: readonly ActionFactory[] = [
  demoNoopAction,
  rotateAction,
  rotationSettingsAction,
  rebuildAction,
  addonSyncAction,
];

export const actionByName = (name: string): ActionFactory | undefined =>
  ACTIONS.find((a) => a.action === (name as JobAction));
