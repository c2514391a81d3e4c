/**
 * The Jobs pane's Addons view (`a`): every addon the manifest declares — name, version,
 * format, pin — beside the version that runs in the cluster, with its flags: DRIFT (runs
 * another version), NO PIN (the Nix module refuses to build it), PIN MISMATCH (the last sync
 * or verify found other bytes at the URL for the same version), and the manifest's other
 * problems; then the selected addon in full (URL, pin, workloads, the last sync's word on
 * it). `S` syncs it, or all of them. ASCII marks only (see rotation/timeline.ts).
 */
import { Box, Text } from 'ink';
import type { AddonRow } from '../../../src/features/addons/model.js';
import { windowStart } from '../../components/Table.js';
import { type Theme, useTheme } from '../../theme.js';
import type { AddonLastSync, JobsDerived } from './bindings.js';

function Line({ children, width }: { children: React.ReactNode; width: number }) {
  return (
    <Box height={1} width={width} overflow="hidden">
      <Text wrap="truncate">{children}</Text>
    </Box>
  );
}

/** The flags of an addon, worst first. */
export function addonFlags(r: AddonRow, last: AddonLastSync | undefined): string[] {
  const out: string[] = [];
  if (last?.mismatch) out.push('PIN MISMATCH');
  if (!r.pinned) out.push(r.pin ? 'BAD PIN' : 'NO PIN');
  if (r.state === 'drift') out.push('DRIFT');
  if (r.state === 'not-running') out.push('NOT RUNNING');
  const other = r.problems.filter((p) => !p.includes('sha256'));
  if (other.length) out.push(`${other.length} PROBLEM${other.length > 1 ? 'S' : ''}`);
  return out;
}

const stateText = (r: AddonRow): string =>
  r.state === 'in-sync'
    ? 'in sync'
    : r.state === 'version-unknown'
      ? 'runs (version?)'
      : r.state === 'not-deployed'
        ? 'node binary'
        : r.state === 'no-kube'
          ? 'no kube API'
          : r.state.replace('-', ' ');

const flagColor = (t: Theme, flags: readonly string[], r: AddonRow): string | undefined =>
  flags.length ? t.bad : r.verdict === 'ok' ? t.ok : t.dim;

const shortPin = (p: string): string => (p ? (p.length > 18 ? `${p.slice(0, 17)}…` : p) : '-');

export function AddonsView({
  derived,
  width,
  height,
}: {
  derived: JobsDerived;
  width: number;
  height: number;
}) {
  const theme = useTheme();
  const m = derived.addons;
  const out: React.ReactNode[] = [];
  if (!m || m.error) {
    out.push(
      <Line key="err" width={width}>
        <Text color={theme.bad}>{`addons: ${m?.error ?? 'not read yet'}`}</Text>
      </Line>,
      <Line key="how" width={width}>
        <Text color={theme.dim}>
          The manifest is the inventory's addons.manifest (e.g. nix/addons/addons.json) · a: jobs
        </Text>
      </Line>,
    );
    return (
      <Box flexDirection="column" width={width} height={height} overflow="hidden">
        {out}
      </Box>
    );
  }
  out.push(
    <Line key="head" width={width}>
      <Text color={theme.accent}>{`addons of ${m.manifestPath ?? '?'}`}</Text>
      <Text color={theme.dim}>
        {` · ${m.rows.length} declared: ${m.totals.ok} ok, ${m.totals.warning} warning, ${m.totals.unknown} unknown`}
      </Text>
      {m.kubeError ? <Text color={theme.bad}>{` · kube: ${m.kubeError}`}</Text> : null}
    </Line>,
  );
  for (const p of m.manifestProblems)
    out.push(
      <Line key={`mp:${p}`} width={width}>
        <Text color={theme.bad}>{`manifest: ${p}`}</Text>
      </Line>,
    );
  const nameW = Math.min(22, Math.max(6, ...m.rows.map((r) => r.name.length)));
  const verW = Math.min(12, Math.max(8, ...m.rows.map((r) => r.version.length)));
  out.push(
    <Line key="th" width={width}>
      <Text bold color={theme.dim}>
        {`  ${'ADDON'.padEnd(nameW)}  ${'DECLARED'.padEnd(verW)}  ${'FORMAT'.padEnd(7)}  ${'PIN'.padEnd(18)}  ${'RUNNING'.padEnd(12)}  ${'STATE'.padEnd(15)}  FLAGS`}
      </Text>
    </Line>,
  );
  // The list takes up to half the pane; the selected addon's detail the rest.
  const detailRows = 7;
  const listRows = Math.max(1, Math.min(m.rows.length, height - out.length - detailRows));
  const first = windowStart(derived.addonIndex, m.rows.length, listRows);
  for (const r of m.rows.slice(first, first + listRows)) {
    const sel = r === derived.addonSelected;
    const flags = addonFlags(r, derived.lastSync.get(r.name));
    const running =
      r.state === 'version-unknown'
        ? 'runs (?)'
        : [...new Set(r.running.map((x) => x.version))].join(',') || '-';
    out.push(
      <Line key={`r:${r.name}`} width={width}>
        <Text inverse={sel} bold={sel}>
          {sel ? '>' : ' '}
        </Text>
        <Text>{` ${r.name.padEnd(nameW)}  ${r.version.padEnd(verW)}  ${r.format.padEnd(7)}  `}</Text>
        <Text color={r.pinned ? undefined : theme.bad}>
          {(r.pinned ? shortPin(r.pin) : 'unpinned').padEnd(18)}
        </Text>
        <Text color={r.state === 'drift' ? theme.bad : undefined}>{`  ${running.padEnd(12)}`}</Text>
        <Text color={theme.dim}>{`  ${stateText(r).padEnd(15)}  `}</Text>
        <Text color={flagColor(theme, flags, r)} bold={flags.length > 0}>
          {flags.join(' ') || 'ok'}
        </Text>
      </Line>,
    );
  }
  const r = derived.addonSelected;
  if (r) {
    const last = derived.lastSync.get(r.name);
    out.push(
      <Line key="rule" width={width}>
        <Text color={theme.dim}>
          {`-- ${r.name} ${r.version} (${r.format}) `.padEnd(width, '-')}
        </Text>
      </Line>,
      <Line key="url" width={width}>
        <Text color={theme.dim}>{'url      '}</Text>
        {r.url}
      </Line>,
      <Line key="pin" width={width}>
        <Text color={theme.dim}>{'pin      '}</Text>
        <Text color={r.pinned ? undefined : theme.bad}>
          {r.pin || 'none: the Nix module refuses to build it until a sync fills it'}
        </Text>
      </Line>,
      <Line key="running" width={width}>
        <Text color={theme.dim}>{'running  '}</Text>
        {r.running.length
          ? r.running
              .map((x) => `${x.workload} (${x.namespace}) ${x.version} [${x.from}]`)
              .join(' · ')
          : '-'}
      </Line>,
      <Line key="state" width={width}>
        <Text color={theme.dim}>{'state    '}</Text>
        <Text color={r.verdict === 'warning' ? theme.bad : undefined}>{r.detail}</Text>
      </Line>,
      <Line key="last" width={width}>
        <Text color={theme.dim}>{'sync     '}</Text>
        {last ? (
          <Text color={last.mismatch ? theme.bad : undefined}>
            {`${last.text} (job ${last.job}, ${last.state})`}
          </Text>
        ) : (
          <Text color={theme.dim}>not synced or verified from this machine yet</Text>
        )}
      </Line>,
    );
  }
  out.push(
    <Line key="keys" width={width}>
      <Text color={theme.dim}>
        S sync the selected addon or all (typed confirmation; the diff of the pins written goes into
        the job's log) · a back to the jobs
      </Text>
    </Line>,
  );
  return (
    <Box flexDirection="column" width={width} height={height} overflow="hidden">
      {out.slice(0, height)}
    </Box>
  );
}
