import { useStdout } from 'ink';
import { useEffect, useState } from 'react';

export interface TerminalSize {
  columns: number;
  rows: number;
}

/** What Ink's useStdout() gives: typed as a plain writable by Ink 8, a TTY at run time. */
type Stdout = NodeJS.WritableStream & { columns?: number; rows?: number };

const sizeOf = (stdout: Stdout, fixed?: TerminalSize): TerminalSize => ({
  columns: fixed?.columns ?? stdout.columns ?? 80,
  rows: fixed?.rows ?? stdout.rows ?? 24,
});

/**
 * Terminal size, with resize events debounced (~100 ms) so a drag-resize causes one
 * re-layout, not a storm of full redraws.
 */
export function useTerminalSize(fixed?: TerminalSize, debounceMs = 100): TerminalSize {
  const { stdout } = useStdout();
  const [size, setSize] = useState(() => sizeOf(stdout, fixed));
  useEffect(() => {
    if (fixed) return;
    let timer: NodeJS.Timeout | undefined;
    const onResize = () => {
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => {
        const next = sizeOf(stdout);
        setSize((prev) => (prev.columns === next.columns && prev.rows === next.rows ? prev : next));
      }, debounceMs);
    };
    stdout.on('resize', onResize);
    return () => {
      if (timer) clearTimeout(timer);
      stdout.off('resize', onResize);
    };
  }, [stdout, fixed, debounceMs]);
  return fixed ?? size;
}
