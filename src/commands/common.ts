/** What every subcommand shares: exit codes, the writer types, settling, plain tables. */
import type { Session } from '../session/session.js';

/** Exit codes shared by every subcommand (a subcommand may add its own above these). */
export const EXIT = { ok: 0, problem: 1, config: 2 } as const;

export type Out = NodeJS.WritableStream;

/**
 * Run `body` while a ref'd timer holds the process open: the scheduler's timers do not,
 * so a one-shot command would otherwise exit before its sources answer.
 */
export async function holdOpen<T>(body: () => Promise<T>): Promise<T> {
  const hold = setInterval(() => {}, 1000);
  try {
    return await body();
  } finally {
    clearInterval(hold);
  }
}

/** Wait for the first attempt of every source (each bounded by its own timeout). */
export const settleOnce = (session: Session): Promise<void> => holdOpen(() => session.settle());

/** Left-aligned columns two spaces apart, trailing blanks trimmed. */
export function formatTable(header: readonly string[], rows: readonly string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const fmt = (cells: readonly string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [fmt(header), ...rows.map(fmt)];
}
