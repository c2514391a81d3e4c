/**
 * The pane registry and the bindings it is generated from: every feature has a pane, every
 * pane its key, every binding its help; the hint bar and the help overlay show exactly
 * what the bindings declare, in every mode.
 */
import { Box } from 'ink';
import { render } from 'ink-testing-library';
import { describe, expect, it } from 'vitest';
import { FEATURES } from '../../src/features/index.js';
import { keyLabel, matchKey, NAMED_KEYS } from '../../views/keys/match.js';
import type { Binding } from '../../views/keys/types.js';
import { HelpOverlay, helpRows } from '../../views/layout/HelpOverlay.js';
import { fitHints, HintBar } from '../../views/layout/HintBar.js';
import { PANES } from '../../views/panes/index.js';
import type { PkiUi } from '../../views/panes/pki/bindings.js';
import {
  CONFIRM_BINDINGS,
  FILTER_BINDINGS,
  HELP_BINDINGS,
  helpSections,
  hintsFor,
  initialUiState,
  PALETTE_BINDINGS,
  SHELL_BINDINGS,
  type UiState,
} from '../../views/state.js';
import { monoTheme, ThemeContext } from '../../views/theme.js';
import { key } from '../helpers/ink-key.js';

const NODES = ['cp-1', 'worker-1'];
const ALL_IDS = ['overview', 'pki', 'rotation', 'flows', 'bgp', 'nginx', 'mtu', 'jobs'];

// biome-ignore lint/suspicious/noExplicitAny: bindings of every pane, types erased
const everyBinding = (): Array<{ where: string; b: Binding<any, any> }> => [
  ...SHELL_BINDINGS.map((b) => ({ where: 'shell', b })),
  ...PALETTE_BINDINGS.map((b) => ({ where: 'palette', b })),
  ...FILTER_BINDINGS.map((b) => ({ where: 'filter', b })),
  ...HELP_BINDINGS.map((b) => ({ where: 'help', b })),
  ...CONFIRM_BINDINGS.map((b) => ({ where: 'confirm', b })),
  ...PANES.flatMap((p) => p.bindings.map((b) => ({ where: p.id, b }))),
];

/** States to look at: each pane, each overlay, and the PKI pane's own modes. */
function states(): Array<{ name: string; ui: UiState }> {
  const s0 = initialUiState(NODES);
  const out: Array<{ name: string; ui: UiState }> = PANES.map((p) => ({
    name: p.id,
    ui: { ...s0, pane: p.id },
  }));
  const pki = (p: Partial<PkiUi>): UiState => ({
    ...s0,
    pane: 'pki',
    panes: { pki: { order: 'tree', filter: '', detail: false, scroll: 0, ...p } },
  });
  out.push({ name: 'pki details', ui: pki({ detail: true }) });
  out.push({ name: 'pki worst first', ui: pki({ order: 'worst' }) });
  for (const overlay of ['palette', 'filter', 'help'] as const)
    out.push({ name: overlay, ui: { ...s0, overlay } });
  out.push({
    name: 'confirm',
    ui: {
      ...s0,
      overlay: 'confirm',
      confirm: { token: 't', title: 'demo-noop cp-1', expect: 'cp-1', planText: [] },
    },
  });
  out.push({
    name: 'jobs log',
    ui: { ...s0, pane: 'jobs', panes: { jobs: { log: true, scroll: 'end' } } },
  });
  return out;
}

describe('pane registry', () => {
  it('has every pane of DESIGN.md once, in tab order, keys 1–8', () => {
    expect(PANES.map((p) => p.id)).toEqual(ALL_IDS);
    expect(PANES.map((p) => p.key)).toEqual(['1', '2', '3', '4', '5', '6', '7', '8']);
    expect(new Set(PANES.map((p) => p.title)).size).toBe(PANES.length);
  });

  it('every feature has its pane (addons: a view of the Jobs pane), and every pane with a feature shows a registered one', () => {
    for (const f of FEATURES) {
      const pane = PANES.find((p) => p.id === f.id) ?? PANES.find((p) => p.feature === f);
      expect(pane, `no pane for feature ${f.id}`).toBeDefined();
      expect(pane?.feature).toBe(f);
    }
    expect(PANES.find((p) => p.feature?.id === 'addons')?.id).toBe('jobs');
    for (const p of PANES.filter((x) => x.feature))
      expect(FEATURES, `feature of pane ${p.id} not in features/index.ts`).toContain(p.feature);
  });

  it('every binding has help text and keys that match something', () => {
    for (const { where, b } of everyBinding()) {
      expect(b.help.trim(), `${where}: ${b.keys.join(' ')}`).not.toBe('');
      expect(b.keys.length, `${where}: ${b.help}`).toBeGreaterThan(0);
      for (const k of b.keys) {
        const known = NAMED_KEYS.includes(k) || /^ctrl\+[a-z]$/.test(k) || [...k].length === 1;
        expect(known, `${where}: unknown key spec "${k}"`).toBe(true);
      }
    }
  });

  it('a binding that is listed is reachable: no earlier binding of its list takes all its keys in every state', () => {
    for (const p of PANES) {
      p.bindings.forEach((b, i) => {
        const earlier = p.bindings.slice(0, i).filter((a) => !a.when);
        for (const k of b.keys) {
          const shadow = earlier.find((a) => a.keys.includes(k));
          expect(
            shadow,
            `${p.id}: "${k}" of "${b.help}" is always taken by "${shadow?.help}"`,
          ).toBeUndefined();
        }
      });
    }
  });
});

describe('hint bar and help overlay agree with the bindings', () => {
  it('every hint in every mode is an active binding of that mode', () => {
    for (const { name, ui } of states()) {
      const hints = hintsFor(ui);
      expect(hints.length, name).toBeGreaterThan(0);
      const pane = PANES.find((p) => p.id === ui.pane)!;
      const paneUi = ui.panes[pane.id] ?? pane.initial;
      const mode =
        ui.overlay === 'palette'
          ? PALETTE_BINDINGS
          : ui.overlay === 'filter'
            ? FILTER_BINDINGS
            : ui.overlay === 'help'
              ? HELP_BINDINGS
              : ui.overlay === 'confirm'
                ? CONFIRM_BINDINGS
                : SHELL_BINDINGS;
      // biome-ignore lint/suspicious/noExplicitAny: mixed binding lists
      const candidates: Array<[Binding<any, any>, unknown]> = [
        ...(ui.overlay === 'none'
          ? pane.bindings.filter((b) => !b.when || b.when(paneUi)).map((b) => [b, paneUi] as const)
          : []),
        ...mode.map((b) => [b, ui] as const),
      ] as never;
      for (const h of hints) {
        const from = candidates.find(([b, s]) => {
          const text = typeof b.hint === 'function' ? b.hint(s) : b.hint;
          return text === h.text && (b.hintKeys ?? keyLabel(b.keys[0]!)) === h.keys;
        });
        expect(from, `${name}: hint "${h.keys} ${h.text}" has no binding`).toBeDefined();
      }
    }
  });

  it('the PKI hints follow its state: details, order', () => {
    const text = (name: string) =>
      hintsFor(states().find((s) => s.name === name)!.ui)
        .map((h) => `${h.keys} ${h.text}`)
        .join('  ');
    expect(text('pki')).toMatch(/^j\/k move {2}Enter details {2}s worst first/);
    expect(text('pki worst first')).toContain('s tree order');
    expect(text('pki details')).toMatch(/^Esc close details {2}j\/k scroll/);
    expect(text('pki details')).not.toContain('Enter details');
    // The shell's j/k is shadowed by the pane's, not shown twice.
    expect(text('pki').match(/j\/k/g)).toHaveLength(1);
    expect(text('overview')).toMatch(/^1-8 panes {2}j\/k move {2}\/ filter/);
  });

  it('the hint bar draws what hintsFor gives, dropping optional hints first when narrow', () => {
    for (const { name, ui } of states()) {
      const wide = render(
        <ThemeContext.Provider value={monoTheme}>
          <HintBar ui={ui} columns={400} />
        </ThemeContext.Provider>,
      );
      const line = wide.lastFrame() ?? '';
      for (const h of hintsFor(ui)) expect(line, name).toContain(`${h.keys} ${h.text}`);
      wide.unmount();
    }
    const pki = states().find((s) => s.name === 'pki')!.ui;
    const narrow = fitHints(hintsFor(pki), 80).map((h) => h.text);
    expect(narrow).toContain('quit');
    expect(narrow).toContain('help');
    expect(narrow).not.toContain('refresh');
  });

  it('the help lists exactly the bindings: the shell, the pane, the palette, filter and help modes', () => {
    for (const p of PANES) {
      const listed = helpSections(p.id).flatMap((s) => s.lines.map((l) => l.help));
      const declared = [
        ...SHELL_BINDINGS,
        ...p.bindings,
        ...PALETTE_BINDINGS,
        ...FILTER_BINDINGS,
        ...HELP_BINDINGS,
        ...CONFIRM_BINDINGS,
      ].map((b) => b.help);
      expect([...listed].sort(), p.id).toEqual([...declared].sort());
    }
  });

  it('the help overlay draws every line when it has the room, and scrolls when not', () => {
    const rows = helpRows('pki');
    const tall = render(
      <ThemeContext.Provider value={monoTheme}>
        <Box>
          <HelpOverlay pane="pki" scroll={0} width={100} height={rows.length + 3} />
        </Box>
      </ThemeContext.Provider>,
    );
    const f = tall.lastFrame() ?? '';
    for (const r of rows) {
      if ('keys' in r) {
        expect(f).toContain(r.keys);
        // The test terminal is 100 columns wide: the start of each line is enough.
        expect(f).toContain(r.help.slice(0, 40));
      } else expect(f).toContain(r.title);
    }
    tall.unmount();
    const short = render(
      <ThemeContext.Provider value={monoTheme}>
        <HelpOverlay pane="pki" scroll={5} width={120} height={10} />
      </ThemeContext.Provider>,
    );
    expect(short.lastFrame()).toMatch(new RegExp(`Keys \\(6–12 of ${rows.length}, j/k scroll\\)`));
    short.unmount();
  });

  it('keys match the way Ink reports them', () => {
    const k = key;
    expect(matchKey('j', 'j', k())).toBe(true);
    expect(matchKey('j', 'j', k({ ctrl: true }))).toBe(false);
    expect(matchKey('escape', '', k({ escape: true, meta: true }))).toBe(true);
    expect(matchKey('tab', '', k({ tab: true, shift: true }))).toBe(false);
    expect(matchKey('shift+tab', '', k({ tab: true, shift: true }))).toBe(true);
    expect(matchKey('ctrl+r', 'r', k({ ctrl: true }))).toBe(true);
    expect(matchKey('G', 'G', k({ shift: true }))).toBe(true);
  });
});
