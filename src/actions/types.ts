/**
 * The contract between actions (rotate, rebuild, addon sync) and the job runner
 * (src/actions/jobs/): an action is a JobSpec whose `run` does its work through a
 * JobContext; the runner records steps, output, timing and result, persists them in the
 * XDG state dir (the Jobs pane and `k8ops audit` read them) and appends the audit log.
 * An action never writes to the terminal itself.
 */
import type { Inventory, RotationSettings } from '../config/types.js';
import type { KubeNodeOps } from '../kube/node-ops.js';
import type { NodeAgent } from '../nodes/agent.js';
import type { Snapshot } from '../store/types.js';
import type { JobRecord } from './jobs/record.js';

/**
 * `demo-noop`: a harmless action that only reads (src/actions/demo-noop), for the demo and
 * tests; `rotation-settings`: the Rotation pane's preview saved into the inventory file.
 */
export type JobAction = 'rotate' | 'rebuild' | 'addon-sync' | 'demo-noop' | 'rotation-settings';

export type StepState = 'pending' | 'running' | 'ok' | 'failed' | 'skipped';
export type JobState = 'queued' | 'running' | 'ok' | 'failed' | 'cancelled' | 'interrupted';

export interface JobContext {
  readonly jobId: string;
  /** Aborted when the operator cancels the job or k8ops shuts down. */
  readonly signal: AbortSignal;
  /**
   * Run one named step (e.g. `cp-1: install`): its start, end and result are recorded;
   * a throw fails the step (and, unless the action catches it, the job).
   */
  step<T>(name: string, fn: () => Promise<T>): Promise<T>;
  /** Mark a step skipped (already in the state it would leave), with why. */
  skip(name: string, why: string): void;
  /** One line of output for the job's log (sanitised by the runner: outside text is hostile). */
  log(line: string): void;
  /**
   * The one line the Jobs pane shows for a target (a node of a roll-out and its phase),
   * replaced by the next call for the same target. Optional: contexts of tests may lack it.
   */
  progress?(target: string, text: string): void;
}

export interface JobSpec<R = unknown> {
  action: JobAction;
  /** One line for the Jobs pane, e.g. `rotate cp-1 (3 certificates)`. */
  title: string;
  /** Node names (or addon names) it acts on. */
  targets: readonly string[];
  /** The plan the operator confirmed, as JSON (recorded in the audit log). */
  plan: unknown;
  run(ctx: JobContext): Promise<R>;
  /** Store sources the console refreshes when the job ends (what it changed, e.g. the addon manifest). */
  refresh?: readonly string[];
}

/* ---------- starting an action from the console or a command (additive, issue 15) ---------- */

/** What a key (or a command) asks for: an action by name, on targets, with its options. */
export interface ActionRequest {
  action: JobAction;
  targets: readonly string[];
  /** Action-specific options (e.g. rotate's `only`), as plain JSON. */
  options?: Readonly<Record<string, unknown>>;
}

/** A choice the operator may change in the confirmation (e.g. drain the workers: no / yes). */
export interface ConfirmOption {
  id: string;
  /** What it decides, e.g. `drain workers`. */
  label: string;
  /** Its values, in the order Tab cycles them. */
  choices: readonly string[];
  /** The value the action was prepared with. */
  value: string;
}

/** An action ready to run: the spec, and what the operator must see and type to confirm it. */
export interface PreparedAction {
  spec: JobSpec;
  /** The text the operator types to confirm (the node name for a one-node action). */
  confirm: string;
  /** The plan as lines for the confirmation overlay (sanitised by the shell). */
  planText: readonly string[];
  /** Choices the confirmation offers (at most a few: every combination is prepared). */
  options?: readonly ConfirmOption[];
  /** The same action with other choices (by option id): spec, confirmation text and plan. */
  withOptions?(
    values: Readonly<Record<string, string>>,
  ): Omit<PreparedAction, 'options' | 'withOptions'>;
}

/** What a preview job gave back: its record (as the Jobs pane shows it) and its raw outcome. */
export interface PreviewOutcome<R = unknown> {
  record: JobRecord;
  /** Its return value, when it ended ok. */
  value?: R;
  /** What it threw, when it failed or was cancelled. */
  error?: unknown;
}

export type PrepareResult = { ok: true; prepared: PreparedAction } | { ok: false; message: string };

/** What an action factory gets from the session: the inventory and the node agents. */
export interface ActionDeps {
  inventory: Inventory;
  agents: ReadonlyMap<string, NodeAgent>;
  mode: 'demo' | 'live';
  /** A kube API is configured (gates may ask it). */
  hasKube?: boolean;
  /** The node's Ready condition from the kube watches; undefined when not known. */
  nodeReady?(name: string): Promise<boolean | undefined>;
  /**
   * The inventory file was rewritten with these rotation settings (`rotation-settings`):
   * the session takes them over, so the console shows what the file now says.
   */
  inventoryChanged?(next: { rotation: RotationSettings; sourceDigest: string }): void;
  /** The session store (the kube watches' snapshots: a rebuild's gate reads them). */
  read?<T>(scope: string, source: string): Snapshot<T>;
  /** Cordon, drain and uncordon through the kube source; undefined without a live one. */
  nodeOps?(): KubeNodeOps | undefined;
  /** The console's `--ssh-config` (nixos-rebuild run here gets it in NIX_SSHOPTS). */
  sshConfig?: string;
  /** Extra trusted CA certificates (PEM) for addon downloads: a private mirror's (tests: a loopback server's). */
  fetchCa?: string;
  /**
   * Run a job that changes nothing (a preview, e.g. a rebuild's dry-activate) through the
   * runner — recorded, audited and shown in the Jobs pane like any job — and wait for its
   * end, while `prepare` builds the plan the operator confirms.
   */
  preview?<R>(spec: JobSpec<R>): Promise<PreviewOutcome<R>>;
}

/**
 * An action by name (src/actions/index.ts lists them): `prepare` checks the request and
 * builds the plan (it may read from the nodes; it changes nothing); the runner runs the spec
 * only after the operator confirmed (or `--yes`).
 */
export interface ActionFactory {
  action: JobAction;
  /** One line for help and the palette. */
  help: string;
  prepare(request: ActionRequest, deps: ActionDeps): Promise<PrepareResult>;
}
