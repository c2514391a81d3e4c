/** What every subcommand shares: exit codes, the writer types, settling, plain tables. */
import { type ParseArgsOptionsConfig, parseArgs } from 'node:util';
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

/** A subcommand's parsed options (node:util parseArgs values). */
export type SubValues = Record<string, string | boolean | string[] | undefined>;

/** Whether argv's subcommand (its first positional) is `name`: cli.ts dispatches on it. */
export function isSubcommand(
  name: string,
  argv: readonly string[],
  options: ParseArgsOptionsConfig,
): boolean {
  try {
    const p = parseArgs({ args: [...argv], options, strict: false, allowPositionals: true });
    return p.positionals[0] === name;
  } catch {
    return false;
  }
}

/** `k8ops NAME: msg` and the hint to --help on stderr; returns the usage exit code. */
export type Usage = (msg: string) => number;
export const usageWriter =
  (name: string, err: Out, usageExit: number = EXIT.config): Usage =>
  (msg) => {
    err.write(`k8ops ${name}: ${msg}\nTry 'k8ops ${name} --help'.\n`);
    return usageExit;
  };

/**
 * Parse a subcommand's argv strictly. Gives its values and positionals (the subcommand's
 * name first) with `usage` for later errors; an unknown option or a missing value has
 * been written through `usage` already (`exit` is its code).
 */
export function parseSubcommand(
  name: string,
  argv: readonly string[],
  options: ParseArgsOptionsConfig,
  err: Out,
  usageExit: number = EXIT.config,
):
  | { ok: true; values: SubValues; positionals: string[]; usage: Usage }
  | { ok: false; exit: number } {
  const usage = usageWriter(name, err, usageExit);
  try {
    const p = parseArgs({ args: [...argv], options, strict: true, allowPositionals: true });
    return { ok: true, values: p.values as SubValues, positionals: p.positionals, usage };
  } catch (e) {
    return { ok: false, exit: usage((e as Error).message) };
  }
}
