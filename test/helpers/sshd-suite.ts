/**
 * `describeLab`: a describe block with a started SshLab (test/helpers/sshd.ts).
 * Without root/sshd it is skipped with the reason in its title — except under CI=true,
 * where the missing prerequisite is a failing test.
 */
import { afterAll, beforeAll, describe, it } from 'vitest';
import { labSupport, type SshLab, startLab } from './sshd.js';

export function describeLab(name: string, body: (lab: () => SshLab) => void): void {
  const support = labSupport();
  if (!support.ok) {
    if (process.env.CI === 'true') {
      describe(name, () => {
        it('has its prerequisites (CI must run the real-sshd tests)', () => {
          throw new Error(`ssh lab unavailable under CI: ${support.reason}`);
        });
      });
    } else {
      process.stderr.write(`[skip] ${name}: ${support.reason}\n`);
      describe.skip(`${name} [skipped: ${support.reason}]`, () => {
        body(() => {
          throw new Error('unreachable');
        });
      });
    }
    return;
  }
  describe(name, () => {
    let lab: SshLab | undefined;
    beforeAll(async () => {
      lab = await startLab();
    });
    afterAll(async () => {
      await lab?.teardown();
    });
    body(() => {
      if (!lab) throw new Error('ssh lab did not start');
      return lab;
    });
  });
}
