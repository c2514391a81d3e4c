/**
 * The Jobs pane: running and past jobs (newest first: state, start, title, steps done,
 * elapsed), then the selected job's steps (state, elapsed, why it failed or was skipped),
 * its error and its output tail; Enter shows the full log instead. Elapsed times of running
 * jobs tick once a second (only while a job runs). ASCII marks only (see rotation/timeline.ts).
 */
import { Box, Text } from 'ink';
import {
  elapsedMs,
  formatElapsed,
  type JobRecord,
  type StepRecord,
} from '../../../src/actions/jobs/record.js';
import type { JobState, StepState } from '../../../src/actions/types.js';
import type { Clock } from '../../../src/store/clock.js';
import { windowStart } from '../../components/Table.js';
import { useNow } from '../../hooks/useClock.js';
import { type Theme, useTheme } from '../../theme.js';
import { AddonsView } from './Addons.js';
import { type JobsDerived, type JobsModel, type JobsUi, logTop } from './bindings.js';

export interface JobsPaneProps {
  model: JobsModel;
  ui: JobsUi;
  derived: JobsDerived;
  clock: Clock;
  width: number;
  height: number;
}

const STEP_MARK: Record<StepState, string> = {
  pending: '[    ]',
  running: '[ .. ]',
  ok: '[ ok ]',
  failed: '[FAIL]',
  skipped: '[skip]',
};

const jobColor = (t: Theme, s: JobState): string | undefined =>
  s === 'ok'
    ? t.ok
    : s === 'failed' || s === 'interrupted'
      ? t.bad
      : s === 'running'
        ? t.accent
        : t.warn;
const stepColor = (t: Theme, s: StepState): string | undefined =>
  s === 'ok' ? t.ok : s === 'failed' ? t.bad : s === 'running' ? t.accent : t.dim;

/**
 * A target's line: failed red, done (an addon converged) green, an addon left behind (old
 * version, not found, not applied) yellow, not run dim, in progress accent.
 */
const progressColor = (t: Theme, text: string): string | undefined =>
  text.startsWith('FAILED')
    ? t.bad
    : text.startsWith('done') || text.startsWith('converged')
      ? t.ok
      : /^(still old version|not found|written, not applied|convergence not watched)/.test(text)
        ? t.warn
        : text.startsWith('not run') || text.startsWith('waiting')
          ? t.dim
          : t.accent;

const hhmmss = (t: number): string => new Date(t).toISOString().slice(11, 19);
const day = (t: number): string => new Date(t).toISOString().slice(5, 10);

function Line({ children, width }: { children: React.ReactNode; width: number }) {
  return (
    <Box height={1} width={width} overflow="hidden">
      <Text wrap="truncate">{children}</Text>
    </Box>
  );
}

/** A running job's elapsed time, re-rendered each second (only this component). */
function Ticking({ job, clock }: { job: JobRecord; clock: Clock }) {
  const now = useNow(clock, 'second');
  return <>{formatElapsed(elapsedMs(job, Math.max(now, job.startedAt)))}</>;
}

function Elapsed({ x, clock }: { x: JobRecord; clock: Clock }) {
  return x.state === 'running' ? (
    <Ticking job={x} clock={clock} />
  ) : (
    formatElapsed(elapsedMs(x, x.endedAt ?? x.startedAt))
  );
}

/** A finished step with its elapsed time (a running one ticks beside it: StepTick). */
function stepText(s: StepRecord): string {
  const t = s.endedAt === undefined ? '' : formatElapsed(elapsedMs(s, s.endedAt));
  return `${STEP_MARK[s.state]} ${s.name}${t ? `  ${t}` : ''}${s.note ? `  ${s.note}` : ''}`;
}

function Steps({
  job,
  clock,
  width,
  rows,
}: {
  job: JobRecord;
  clock: Clock;
  width: number;
  rows: number;
}) {
  const theme = useTheme();
  const running = job.state === 'running';
  const steps = job.steps;
  const shown = steps.length > rows ? steps.slice(steps.length - rows) : steps;
  return (
    <>
      {shown.map((s, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: steps are positional
        <Line key={i} width={width}>
          <Text color={stepColor(theme, s.state)}>{`  ${stepText(s)}`}</Text>
          {running && s.state === 'running' ? (
            <Text color={theme.dim}>
              {' '}
              <StepTick s={s} clock={clock} />
            </Text>
          ) : null}
        </Line>
      ))}
    </>
  );
}

function StepTick({ s, clock }: { s: StepRecord; clock: Clock }) {
  const now = useNow(clock, 'second');
  return <>{`(${formatElapsed(elapsedMs(s, Math.max(now, s.startedAt ?? now)))})`}</>;
}

function FullLog({ derived, ui, width, height }: Omit<JobsPaneProps, 'model' | 'clock'>) {
  const theme = useTheme();
  const job = derived.selected;
  const log = derived.log;
  const lines = log?.lines ?? [];
  const body = Math.max(0, height - 1);
  const top = logTop(ui.scroll, lines.length, body);
  const head = job
    ? `log of ${job.title} · ${job.state} · ${lines.length} lines${log?.dropped ? ` (first ${log.dropped} not shown)` : ''} · ${
        lines.length > body ? `${top + 1}-${Math.min(lines.length, top + body)}` : 'all'
      }${ui.scroll === 'end' && job.state === 'running' ? ' · following' : ''} · Esc back`
    : 'no job selected · Esc back';
  return (
    <Box flexDirection="column" width={width} height={height} overflow="hidden">
      <Line width={width}>
        <Text color={theme.accent}>{head}</Text>
      </Line>
      {log?.error ? (
        <Line width={width}>
          <Text color={theme.bad}>{`cannot read the log: ${log.error}`}</Text>
        </Line>
      ) : lines.length === 0 ? (
        <Line width={width}>
          <Text color={theme.dim}>{log ? '(no output)' : 'loading…'}</Text>
        </Line>
      ) : (
        lines.slice(top, top + body).map((l, i) => (
          // biome-ignore lint/suspicious/noArrayIndexKey: a log line's key is its line number
          <Line key={top + i} width={width}>
            {l}
          </Line>
        ))
      )}
    </Box>
  );
}

export function JobsPane({ model, ui, derived, clock, width, height }: JobsPaneProps) {
  const theme = useTheme();
  if (derived.view === 'addons')
    return <AddonsView derived={derived} width={width} height={height} />;
  if (ui.log) return <FullLog derived={derived} ui={ui} width={width} height={height} />;
  const { jobs, selected, index } = derived;
  const out: React.ReactNode[] = [];
  if (model.error)
    out.push(
      <Line key="err" width={width}>
        <Text color={theme.bad}>{model.error}</Text>
      </Line>,
    );
  if (jobs.length === 0) {
    out.push(
      <Line key="none" width={width}>
        No jobs yet.
      </Line>,
      <Line key="audit" width={width}>
        <Text color={theme.dim}>Each job's start and end is in the audit log: k8ops audit</Text>
      </Line>,
      <Line key="how" width={width}>
        <Text color={theme.dim}>
          Actions (rotate, rebuild, addon sync) run here; try :demo-noop NODE · a: the addons
        </Text>
      </Line>,
    );
    return (
      <Box flexDirection="column" width={width} height={height} overflow="hidden">
        {out}
      </Box>
    );
  }
  // The list takes up to a third of the pane (at least 3 rows); the detail the rest.
  const listRows = Math.min(jobs.length, Math.max(3, Math.floor((height - out.length) / 3)));
  const first = windowStart(index, jobs.length, listRows);
  for (const j of jobs.slice(first, first + listRows)) {
    const sel = j === selected;
    const done = j.steps.filter((s) => s.state === 'ok' || s.state === 'skipped').length;
    out.push(
      <Line key={j.id} width={width}>
        <Text inverse={sel} bold={sel}>
          {sel ? '>' : ' '}
        </Text>
        <Text color={jobColor(theme, j.state)}>{` ${j.state.padEnd(12)}`}</Text>
        <Text color={theme.dim}>{`${day(j.startedAt)} ${hhmmss(j.startedAt)}  `}</Text>
        <Text>{j.title}</Text>
        <Text color={theme.dim}>
          {`  ${done}/${j.steps.length} steps  `}
          <Elapsed x={j} clock={clock} />
        </Text>
      </Line>,
    );
  }
  const job = selected;
  if (job) {
    out.push(
      <Line key="rule" width={width}>
        <Text color={theme.dim}>
          {`-- ${job.id} · by ${job.user}@${job.host} (pid ${job.pid}) · targets ${job.targets.join(', ') || '-'} `.padEnd(
            width,
            '-',
          )}
        </Text>
      </Line>,
    );
    if (job.error)
      out.push(
        <Line key="error" width={width}>
          <Text color={jobColor(theme, job.state)}>{`${job.state}: ${job.error}`}</Text>
        </Line>,
      );
    // One line per target (a roll-out's nodes and their phase), then the steps (up to half
    // of what is left), then the output tail.
    const progress = job.progress ?? [];
    if (progress.length) {
      const room = Math.max(1, Math.floor((height - out.length) / 3));
      const shown = progress.slice(0, progress.length > room ? room - 1 : room);
      const w = Math.min(24, Math.max(...shown.map((p) => p.target.length)));
      for (const p of shown)
        out.push(
          <Line key={`p:${p.target}`} width={width}>
            <Text bold>{`  ${p.target.padEnd(w)}  `}</Text>
            <Text color={progressColor(theme, p.text)}>{p.text}</Text>
          </Line>,
        );
      if (shown.length < progress.length)
        out.push(
          <Line key="p:more" width={width}>
            <Text
              color={theme.dim}
            >{`  … ${progress.length - shown.length} more (Enter: full log)`}</Text>
          </Line>,
        );
    }
    const left = height - out.length;
    const stepRows = Math.min(job.steps.length, Math.max(1, Math.floor(left / 2)), left);
    if (stepRows > 0)
      out.push(<Steps key="steps" job={job} clock={clock} width={width} rows={stepRows} />);
    const tailRoom = left - stepRows - 1;
    if (tailRoom > 0) {
      out.push(
        <Line key="out" width={width}>
          <Text color={theme.dim}>
            {`output: ${job.lines} line${job.lines === 1 ? '' : 's'}${job.lines > tailRoom ? `, the last ${tailRoom}` : ''} (Enter: full log)`}
          </Text>
        </Line>,
      );
      const tail = job.tail.slice(Math.max(0, job.tail.length - tailRoom));
      tail.forEach((l, i) => {
        out.push(
          // biome-ignore lint/suspicious/noArrayIndexKey: tail lines are positional
          <Line key={`t${i}`} width={width}>
            {l}
          </Line>,
        );
      });
    }
  }
  return (
    <Box flexDirection="column" width={width} height={height} overflow="hidden">
      {out}
    </Box>
  );
}
