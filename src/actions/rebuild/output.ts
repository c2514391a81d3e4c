/**
 * What nixos-rebuild and switch-to-configuration print, read line by line (pure, never
 * throws): the phase a node is in, and the activation's unit lists — of a real switch
 * (`restarting the following units: a, b`, `warning: the following units failed: c`) and
 * of `dry-activate` (`would restart the following units: …`). The strings are those of
 * nixos-rebuild (legacy bash and -ng: "building the system configuration...", "Building
 * the system configuration...") and of switch-to-configuration(-ng)'s messages, matched
 * case-insensitively; fixtures beside the tests.
 */

export type RebuildPhase = 'evaluating' | 'building' | 'copying' | 'activating' | 'done';

export const PHASE_ORDER: readonly RebuildPhase[] = [
  'evaluating',
  'building',
  'copying',
  'activating',
  'done',
];

const PHASE_MARKERS: ReadonlyArray<[RebuildPhase, RegExp]> = [
  ['done', /^done\. the new configuration is /i],
  [
    'activating',
    /^(activating the configuration|would activate the configuration|updating grub|setting up \/etc|stopping the following units|restarting systemd|switching to (system )?configuration|installing bootloader)/i,
  ],
  ['copying', /^(copying closure|copying \d+ paths?|copying path '|copying to target)/i],
  [
    'building',
    /^(building the system configuration|building '\/nix\/store\/|these \d+ derivations? will be built|this derivation will be built|these \d+ paths? will be fetched|this path will be fetched)/i,
  ],
];

/** The phase after `line`: a phase only moves forward. */
export function nextPhase(current: RebuildPhase, line: string): RebuildPhase {
  const t = line.trim();
  for (const [phase, re] of PHASE_MARKERS) {
    if (re.test(t))
      return PHASE_ORDER.indexOf(phase) > PHASE_ORDER.indexOf(current) ? phase : current;
  }
  return current;
}

export interface ActivationReport {
  stop: string[];
  notRestarted: string[];
  reload: string[];
  restart: string[];
  start: string[];
  /** `the following new units were started` */
  newlyStarted: string[];
  failed: string[];
  /** `restarting systemd` / `would restart systemd` */
  restartsSystemd: boolean;
}

const LISTS: ReadonlyArray<[keyof Omit<ActivationReport, 'restartsSystemd'>, RegExp]> = [
  ['notRestarted', /^(?:would )?not (?:restarting|stop) the following changed units: (.*)$/i],
  ['notRestarted', /^would not stop the following changed units: (.*)$/i],
  ['stop', /^(?:would stop|stopping) the following units: (.*)$/i],
  ['reload', /^(?:would reload|reloading) the following units: (.*)$/i],
  ['restart', /^(?:would restart|restarting) the following units: (.*)$/i],
  ['start', /^(?:would start|starting) the following units: (.*)$/i],
  ['newlyStarted', /^the following new units were started: (.*)$/i],
  ['failed', /^warning: the following units failed: (.*)$/i],
];

/** A systemd unit name as switch-to-configuration lists them (anything else is dropped). */
const UNIT = /^[A-Za-z0-9:_.\\@-]+$/;

export function parseActivation(lines: readonly string[]): ActivationReport {
  const r: ActivationReport = {
    stop: [],
    notRestarted: [],
    reload: [],
    restart: [],
    start: [],
    newlyStarted: [],
    failed: [],
    restartsSystemd: false,
  };
  for (const raw of lines) {
    const line = raw.trim();
    if (/^(would )?restart(ing)? systemd/i.test(line)) r.restartsSystemd = true;
    for (const [key, re] of LISTS) {
      const m = re.exec(line);
      if (!m) continue;
      for (const u of m[1]!.split(',').map((s) => s.trim()))
        if (UNIT.test(u) && !r[key].includes(u)) r[key].push(u);
      break;
    }
  }
  return r;
}

export type RebuildOutcome =
  | { kind: 'ok' }
  /** switch-to-configuration's exit 4: the new generation is live, some units failed. */
  | { kind: 'units-failed'; units: string[] }
  | { kind: 'failed'; code: number | null; signal?: string };

export function outcomeOf(
  code: number | null,
  report: ActivationReport,
  signal?: string,
): RebuildOutcome {
  if (code === 0 && report.failed.length === 0) return { kind: 'ok' };
  // switch-to-configuration exits 4; legacy nixos-rebuild turns that into 1 after
  // "warning: error(s) occurred while switching…": the failed-units line tells them apart.
  if (code === 4 || (report.failed.length > 0 && (code === 0 || code === 1)))
    return { kind: 'units-failed', units: report.failed };
  return signal ? { kind: 'failed', code, signal } : { kind: 'failed', code };
}
