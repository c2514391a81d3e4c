import { Box, type Key, Text, useApp, useInput } from 'ink';
import { useEffect, useMemo, useRef, useState } from 'react';
import { overviewFeature } from '../src/features/overview/model.js';
import { featureReads } from '../src/features/types.js';
import type { Session } from '../src/session/session.js';
import { useExternalModel } from './hooks/useExternalModel.js';
import { useFeatureModel } from './hooks/useFeatureModel.js';
import { type TerminalSize, useTerminalSize } from './hooks/useTerminalSize.js';
import { ConfirmOverlay } from './layout/ConfirmOverlay.js';
import { Header } from './layout/Header.js';
import { HelpOverlay } from './layout/HelpOverlay.js';
import { HintBar } from './layout/HintBar.js';
import { NodeList } from './layout/NodeList.js';
import { PalettePanel } from './layout/PalettePanel.js';
import { StatusLine } from './layout/StatusLine.js';
import { Tabs } from './layout/Tabs.js';
import { paneById } from './panes/index.js';
import {
  type Effect,
  initialUiState,
  makePaneEnv,
  openConfirm,
  paneState,
  reduceKey,
  type ShellCtx,
  type UiState,
} from './state.js';
import { colorTheme, type Theme, ThemeContext } from './theme.js';

export const MIN_COLUMNS = 60;
export const MIN_ROWS = 12;
/** Header, tabs, status line, hint bar. */
const CHROME_ROWS = 4;

export interface AppProps {
  session: Session;
  theme?: Theme;
  /** Fixed size (tests); otherwise the terminal's, updated on resize. */
  size?: TerminalSize;
  /** Called when the user quits (after Ink's exit). */
  onQuit?: () => void;
}

/** The key flags of one character of a multi-character input chunk. */
function keyOfChar(ch: string, key: Key): Key {
  if (ch === '\r' || ch === '\n') return { ...key, return: true };
  if (ch === '\t') return { ...key, tab: true };
  if (ch === '\x7f' || ch === '\b') return { ...key, backspace: true };
  return key;
}

export function App({ session, theme = colorTheme, size, onQuit }: AppProps) {
  return (
    <ThemeContext.Provider value={theme}>
      <Shell session={session} size={size} onQuit={onQuit} />
    </ThemeContext.Provider>
  );
}

function Shell({ session, size, onQuit }: Omit<AppProps, 'theme'>) {
  const { exit } = useApp();
  const { columns, rows } = useTerminalSize(size);
  const nodes = useMemo(() => session.inventory.nodes.map((n) => n.name), [session]);
  const [ui, setUi] = useState<UiState>(() => initialUiState(nodes));
  const uiRef = useRef(ui);
  uiRef.current = ui;

  const bodyHeight = rows - CHROME_ROWS;
  const sideWidth = columns >= 100 ? 18 : 14;
  const paneWidth = columns - sideWidth - 1;
  const paletteHeight = ui.overlay === 'palette' ? Math.min(8, Math.floor(bodyHeight / 2)) : 0;
  const paneHeight = bodyHeight - paletteHeight;

  // The Overview's model feeds the header and the node list on every pane; the active
  // pane's model is built only while it is shown (one generic hook, no per-pane branch).
  const pane = paneById(ui.pane);
  const overview = useFeatureModel(session, overviewFeature)!;
  // What is on screen: the header's and node list's sources and the pane's. A source that
  // only a hidden pane shows ticks at its slower interval (issue 13: idle CPU).
  useEffect(() => {
    const shown = new Set<string>();
    for (const f of pane.feature ? [overviewFeature, pane.feature] : [overviewFeature])
      for (const r of featureReads(f)) shown.add(r.id);
    session.showSources(shown);
  }, [session, pane]);
  const own = useFeatureModel(session, pane.feature === overviewFeature ? undefined : pane.feature);
  const external = useExternalModel(
    session,
    pane.feature && !pane.combine ? undefined : pane.external,
  );
  const combined = useMemo(
    () => (pane.combine ? pane.combine(own, external) : undefined),
    [pane, own, external],
  );
  const model =
    combined ?? (pane.feature === overviewFeature ? overview : pane.feature ? own : external);
  const contexts = session.kubeContexts();
  const sizeCtx: ShellCtx = { nodes, contexts, width: paneWidth, height: paneHeight };
  const env = useMemo(
    () => makePaneEnv(nodes, ui.filter, ui.selected, paneWidth, paneHeight, ui.marked),
    [nodes, ui.filter, ui.selected, paneWidth, paneHeight, ui.marked],
  );
  const ps = paneState(ui, pane);
  const derived = useMemo(
    () => (pane.feature && model === undefined ? undefined : pane.derive(model, ps, env)),
    [pane, model, ps, env],
  );
  const visibleNames = useMemo(() => new Set(env.visibleNodes), [env]);
  const visibleRows = useMemo(
    () => overview.rows.filter((r) => visibleNames.has(r.name)),
    [overview, visibleNames],
  );
  const ctx: ShellCtx = {
    ...sizeCtx,
    derive: (st) => {
      if (st.pane !== pane.id || (pane.feature && model === undefined)) return undefined;
      if (st === ui) return derived;
      const e = makePaneEnv(nodes, st.filter, st.selected, paneWidth, paneHeight, st.marked);
      return pane.derive(model, paneState(st, pane), e);
    },
  };

  useInput((input, key) => {
    // A terminal may deliver several typed characters in one chunk (fast typing, paste,
    // tmux send-keys): feed them one at a time so ":pki" opens the palette, then types.
    const chunks = input.length > 1 && !key.ctrl && !key.meta ? [...input] : [input];
    let state = uiRef.current;
    for (const chunk of chunks) {
      // Keys that arrive inside such a chunk ("jj\r") carry no flags of their own.
      const k = chunks.length > 1 ? keyOfChar(chunk, key) : key;
      const [next, effect] = reduceKey(state, chunk, k, ctx);
      state = next;
      runEffect(effect);
      if (effect?.kind === 'quit') break;
    }
    uiRef.current = state;
    setUi(state);
  });

  /** Apply a change to the latest state (for effects that answer later). */
  const update = (f: (s: UiState) => UiState) => {
    const next = f(uiRef.current);
    uiRef.current = next;
    setUi(next);
  };
  const say = (text: string, kind: 'info' | 'error') =>
    update((s) => ({ ...s, message: { text, kind } }));

  const runEffect = (effect: Effect) => {
    if (!effect) return;
    // Actions: plan → typed confirmation → job (the session refuses all in read-only mode).
    if (effect.kind === 'action') {
      void session.jobs.prepare(effect.request).then(
        (r) => {
          if (!r.ok) return say(r.message, 'error');
          const { token, title, confirm, planText, options, variants } = r.job;
          update((s) =>
            openConfirm(s, {
              token,
              title,
              expect: confirm,
              planText,
              ...(options.length ? { options, variants } : {}),
            }),
          );
        },
        (e: unknown) => say(`not started: ${e instanceof Error ? e.message : String(e)}`, 'error'),
      );
    }
    if (effect.kind === 'start-job') {
      const r = session.jobs.start(effect.token, effect.values);
      // Deferred: the key's own state (set after this effect) would overwrite the message.
      queueMicrotask(() =>
        r.ok ? say(`started ${r.title} (8: Jobs)`, 'info') : say(r.message, 'error'),
      );
      // Its end is said too (a short job, such as saving settings, ends before a look at 8).
      if (r.ok)
        void session.jobs
          .handle(r.id)
          ?.done.then((rec) =>
            say(
              `${rec.title}: ${rec.state}${rec.error ? ` (${rec.error})` : ''}`,
              rec.state === 'ok' ? 'info' : 'error',
            ),
          );
    }
    if (effect.kind === 'discard-job') session.jobs.discard(effect.token);
    if (effect.kind === 'job-log') {
      if (effect.id) session.jobs.loadLog(effect.id);
      else session.jobs.closeLog();
    }
    if (effect.kind === 'cancel-job') {
      const r = session.jobs.cancel(effect.id);
      queueMicrotask(() => say(r.message, r.ok ? 'info' : 'error'));
    }
    if (effect.kind === 'refresh') {
      if (effect.source !== undefined) void session.scheduler.refresh({ source: effect.source });
      else session.refreshAll();
    }
    if (effect.kind === 'accept-hostkey') {
      void session.acceptHostKey(effect.node).then((r) => {
        const next = {
          ...uiRef.current,
          message: { text: r.message, kind: r.ok ? ('info' as const) : ('error' as const) },
        };
        uiRef.current = next;
        setUi(next);
      });
    }
    if (effect.kind === 'ctx') {
      void session.switchContext(effect.name).then((r) => {
        const message = r.ok
          ? { text: `kube context: ${r.context}`, kind: 'info' as const }
          : { text: `context not switched: ${r.message}`, kind: 'error' as const };
        const next = { ...uiRef.current, message };
        uiRef.current = next;
        setUi(next);
      });
    }
    if (effect.kind === 'quit') {
      onQuit?.();
      exit();
    }
  };

  if (columns < MIN_COLUMNS || rows < MIN_ROWS) {
    return (
      <Box width={columns} height={Math.max(1, rows)} overflow="hidden">
        <Text wrap="truncate">{`terminal too small: ${columns}×${rows}, k8ops needs ${MIN_COLUMNS}×${MIN_ROWS} (q quits)`}</Text>
      </Box>
    );
  }

  let body: React.ReactNode;
  if (ui.overlay === 'confirm' && ui.confirm)
    body = (
      <ConfirmOverlay confirm={ui.confirm} input={ui.input} width={paneWidth} height={paneHeight} />
    );
  else if (ui.overlay === 'help')
    body = (
      <HelpOverlay pane={ui.pane} scroll={ui.helpScroll} width={paneWidth} height={paneHeight} />
    );
  else if (pane.feature && model === undefined) body = null;
  else
    body = (
      <pane.View
        model={model}
        ui={ps}
        derived={derived}
        env={env}
        clock={session.clock}
        width={paneWidth}
        height={paneHeight}
      />
    );

  return (
    <Box flexDirection="column" width={columns} height={rows} overflow="hidden">
      <Header session={session} totals={overview.totals} columns={columns} />
      <Tabs active={ui.pane} columns={columns} />
      <Box height={bodyHeight} overflow="hidden">
        <NodeList
          rows={visibleRows}
          selected={ui.selected}
          marked={ui.marked}
          filter={ui.filter}
          width={sideWidth}
          height={bodyHeight}
        />
        <Box width={1} />
        <Box flexDirection="column" width={paneWidth} height={bodyHeight} overflow="hidden">
          {paletteHeight > 0 ? (
            <PalettePanel
              input={ui.input}
              suggestion={ui.suggestion}
              ctx={ctx}
              width={paneWidth}
              height={paletteHeight}
            />
          ) : null}
          {body}
        </Box>
      </Box>
      <StatusLine ui={ui} columns={columns} />
      <HintBar ui={ui} columns={columns} />
    </Box>
  );
}
