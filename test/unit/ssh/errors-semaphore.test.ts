import { describe, expect, it } from 'vitest';
import { RemoteExecError } from '../../../src/ssh/errors.js';
import { Semaphore } from '../../../src/ssh/semaphore.js';

describe('RemoteExecError', () => {
  it('reads like execa: where, what, exit code, then stderr', () => {
    const e = new RemoteExecError({
      kind: 'exit',
      host: 'node1',
      route: 'via bastion',
      reason: 'command failed with exit code 2',
      command: "cat '/etc/x'",
      exitCode: 2,
      stderr: 'cat: /etc/x: No such file or directory\n',
    });
    expect(e.message).toBe(
      "ssh node1 (via bastion): command failed with exit code 2: cat '/etc/x'\ncat: /etc/x: No such file or directory",
    );
    expect(e.shortMessage).toBe(
      "ssh node1 (via bastion): command failed with exit code 2: cat '/etc/x'",
    );
    expect(e.toSourceError()).toEqual({ kind: 'exit', message: e.shortMessage });
    expect(e).toBeInstanceOf(Error);
  });
  it('hop, hint, stderr tail, host-key kinds map to `hostkey`', () => {
    const e = new RemoteExecError({
      kind: 'hostkey-changed',
      host: 'node1',
      route: 'via bastion',
      hop: 'bastion',
      reason: 'host key changed',
      hint: 'remove line 3',
      stderr: 'x'.repeat(5000),
    });
    expect(e.shortMessage).toBe('ssh node1 (via bastion) [at hop bastion]: host key changed');
    expect(e.message.split('\n')[1]).toBe('remove line 3');
    expect(e.stderr!.length).toBeLessThanOrEqual(2001);
    expect(e.toSourceError().kind).toBe('hostkey');
    expect(e.withCommand('true').command).toBe('true');
  });
});

describe('Semaphore', () => {
  it('bounds holders, FIFO, releases idempotently, aborts waiters', async () => {
    const s = new Semaphore(2);
    const r1 = await s.acquire();
    const r2 = await s.acquire();
    const order: number[] = [];
    const w3 = s.acquire().then((r) => {
      order.push(3);
      return r;
    });
    const ac = new AbortController();
    const w4 = s.acquire(ac.signal);
    const w5 = s.acquire().then((r) => {
      order.push(5);
      return r;
    });
    expect(s.waiting).toBe(3);
    ac.abort(new Error('stop'));
    await expect(w4).rejects.toThrow('stop');
    r1();
    r1();
    expect(s.inUse).toBe(2);
    (await w3)();
    r2();
    (await w5)();
    expect(order).toEqual([3, 5]);
    expect(s.inUse).toBe(0);
    expect(s.peak).toBe(2);
  });
});
