/** nixos-rebuild's output read line by line: phases, activation lists, outcomes. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  nextPhase,
  outcomeOf,
  parseActivation,
  type RebuildPhase,
} from '../../../../src/actions/rebuild/output.js';

const FX = join(import.meta.dirname, '..', '..', '..', 'fixtures', 'nixos-rebuild');
const lines = (f: string) => readFileSync(join(FX, f), 'utf8').split('\n').filter(Boolean);
const phases = (ls: string[]) => {
  let p: RebuildPhase = 'evaluating';
  const seen: RebuildPhase[] = [p];
  for (const l of ls) {
    const n = nextPhase(p, l);
    if (n !== p) {
      p = n;
      seen.push(p);
    }
  }
  return seen;
};

describe('nixos-rebuild output', () => {
  it('a switch walks evaluating → building → copying → activating → done', () => {
    const ls = lines('switch-ok.txt');
    expect(phases(ls)).toEqual(['evaluating', 'building', 'copying', 'activating', 'done']);
    const r = parseActivation(ls);
    expect(r).toEqual({
      stop: ['kube-apiserver.service'],
      notRestarted: ['systemd-journal-flush.service'],
      reload: ['dbus.service'],
      restart: ['kubelet.service', 'nginx.service'],
      start: ['kube-apiserver.service'],
      newlyStarted: ['k8ops-rotate.timer'],
      failed: [],
      restartsSystemd: true,
    });
    expect(outcomeOf(0, r)).toEqual({ kind: 'ok' });
  });

  it('failed units: exit 4, or legacy exit 1 after the warning, is "switched, units failed"', () => {
    const r = parseActivation(lines('switch-units-failed.txt'));
    expect(r.failed).toEqual(['etcd.service', 'kube-apiserver.service']);
    expect(outcomeOf(4, r)).toEqual({ kind: 'units-failed', units: r.failed });
    expect(outcomeOf(1, r)).toEqual({ kind: 'units-failed', units: r.failed });
    expect(outcomeOf(1, parseActivation([]))).toEqual({ kind: 'failed', code: 1 });
    expect(outcomeOf(null, parseActivation([]), 'SIGTERM')).toEqual({
      kind: 'failed',
      code: null,
      signal: 'SIGTERM',
    });
  });

  it('dry-activate lists what would change (nixos-rebuild-ng capitalisation too)', () => {
    const ls = lines('dry-activate.txt');
    expect(phases(ls)).toEqual(['evaluating', 'building', 'activating']);
    const r = parseActivation(ls);
    expect(r.stop).toEqual(['kube-proxy.service']);
    expect(r.restart).toEqual(['kubelet.service', 'cilium-cni-save.service']);
    expect(r.start).toEqual(['kube-proxy.service', 'k8ops-rotate.timer']);
    expect(r.reload).toEqual(['dbus.service']);
    expect(r.notRestarted).toEqual(['systemd-journal-flush.service']);
    expect(r.restartsSystemd).toBe(true);
  });

  it('phases never go back; garbage and hostile unit names are dropped, never thrown on', () => {
    expect(nextPhase('activating', 'building the system configuration...')).toBe('activating');
    const r = parseActivation([
      'restarting the following units: ok.service, $(rm -rf /), \u001b[2J, a b',
      '\u0000\u0001 garbage',
      'x'.repeat(10_000),
    ]);
    expect(r.restart).toEqual(['ok.service']);
    for (let i = 0; i < 500; i++) {
      const junk = String.fromCharCode(
        ...Array.from({ length: 40 }, () => (Math.random() * 0xffff) | 0),
      );
      expect(() =>
        parseActivation([junk, `restarting the following units: ${junk}`]),
      ).not.toThrow();
      expect(() => nextPhase('evaluating', junk)).not.toThrow();
    }
  });
});
