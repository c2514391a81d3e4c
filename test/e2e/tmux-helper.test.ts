/**
 * The tmux helper's `kill()` returns only after the pane's processes have exited: an e2e
 * test's `afterAll` removes the temporary home right after it, and a k8ops still writing its
 * cache there made that `rmSync` fail with ENOTEMPTY in CI.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { alive, haveTmux, processTree, TmuxTerm } from '../helpers/tmux.js';

const dir = mkdtempSync(join(tmpdir(), 'k8ops-e2e-tmux-helper-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(!haveTmux() && process.env.CI !== 'true')('TmuxTerm.kill', () => {
  it('waits for a process that is still writing after the hang-up', async () => {
    const late = join(dir, 'written-after-hangup');
    const ready = join(dir, 'ready');
    const term = new TmuxTerm('helper-kill', { PATH: process.env.PATH ?? '' });
    try {
      // The pane's shell catches SIGHUP, waits 400 ms and only then writes its file (as
      // k8ops writes its cache on the way out).
      term.start(
        `trap 'sleep 0.4; : > ${late}; exit 0' HUP; : > ${ready}; while :; do sleep 1; done`,
        80,
        24,
      );
      const until = Date.now() + 10_000;
      while (!existsSync(ready) && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
      expect(existsSync(ready)).toBe(true);
      const tree = processTree(term.panePid());
      expect(tree.length).toBeGreaterThanOrEqual(1);
      term.kill();
      expect(existsSync(late)).toBe(true);
      expect(tree.filter(alive)).toEqual([]);
    } finally {
      term.kill(); // (a second kill finds no session: nothing to do)
    }
  }, 30_000);

  it('processTree lists the pane shell and its children', async () => {
    const ready = join(dir, 'ready-2');
    const term = new TmuxTerm('helper-tree', { PATH: process.env.PATH ?? '' });
    try {
      term.start(`sleep 30 & sleep 31 & : > ${ready}; wait`, 80, 24);
      const until = Date.now() + 10_000;
      while (!existsSync(ready) && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
      const tree = processTree(term.panePid());
      expect(tree[0]).toBe(term.panePid());
      expect(tree.length).toBe(3);
    } finally {
      term.kill();
    }
  }, 30_000);
});
