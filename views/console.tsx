/**
 * The interactive console: alternate screen, Ink render at ≤15 fps with incremental
 * output, and a terminal that is restored on every way out (q, Ctrl-C, signals, crash).
 */
import { render } from 'ink';
import type { ConsoleOptions } from '../src/cli.js';
import type { Session } from '../src/session/session.js';
import { frameTracer, loopTracer } from '../src/session/trace.js';
import { App } from './App.js';
import { colorTheme, monoTheme } from './theme.js';

const ENTER_ALT = '\x1b[?1049h\x1b[H';
const LEAVE_ALT = '\x1b[?25h\x1b[?1049l';

export async function runConsole(session: Session, opts: ConsoleOptions): Promise<number> {
  const stdout = process.stdout;
  let restored = false;
  const restore = () => {
    if (restored) return;
    restored = true;
    stdout.write(LEAVE_ALT);
  };
  stdout.write(ENTER_ALT);

  const traceFrame = frameTracer(session, process.env.K8OPS_TRACE_FRAMES);
  const traceLoop = loopTracer(process.env.K8OPS_TRACE_LOOP);
  const onRender =
    traceFrame || traceLoop
      ? () => {
          traceFrame?.();
          traceLoop?.();
        }
      : undefined;
  const instance = render(<App session={session} theme={opts.color ? colorTheme : monoTheme} />, {
    exitOnCtrlC: false,
    maxFps: 15,
    incrementalRendering: true,
    patchConsole: true,
    ...(onRender ? { onRender } : {}),
  });

  const onSignal = (signal: NodeJS.Signals) => {
    instance.unmount();
    restore();
    void session.close();
    process.exit(signal === 'SIGINT' ? 130 : signal === 'SIGHUP' ? 129 : 143);
  };
  const onCrash = (err: unknown) => {
    try {
      instance.unmount();
    } catch {
      // the renderer itself may be what failed
    }
    restore();
    process.stderr.write(
      `k8ops crashed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exit(70);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal);
  process.on('SIGINT', onSignal);
  process.on('uncaughtException', onCrash);
  process.on('unhandledRejection', onCrash);
  process.on('exit', restore);

  session.start();
  try {
    await instance.waitUntilExit();
  } finally {
    restore();
    process.off('SIGTERM', onSignal);
    process.off('SIGHUP', onSignal);
    process.off('SIGINT', onSignal);
    process.off('uncaughtException', onCrash);
    process.off('unhandledRejection', onCrash);
    process.off('exit', restore);
    await session.close();
  }
  return 0;
}
