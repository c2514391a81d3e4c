/**
 * The demo lab's `nixos-rebuild` and `etcdctl endpoint health`, for `B` and `k8ops rebuild
 * --demo` (the demo inventory has `rebuild.runOn: node`, so the roll-out runs them through
 * NodeAgent.exec like on a real node). nixos-rebuild prints the lines the real one prints
 * for each phase (test/fixtures/nixos-rebuild), a line every ~150 ms through the live output,
 * and activates a pending change of the lab's configuration (a kubelet restart and a new
 * timer on every node, the API server on the control-plane): after a switch, dry-activate
 * on that node has nothing left to do; `switch --rollback` brings the change back.
 * Demo only: nothing is built or switched anywhere.
 */
import type { NodeExecOptions, NodeExecResult } from '../store/io.js';
import type { DemoCommand, DemoCommandContext } from './node-commands.js';

/** Per lab and node: the pending change has been switched to. */
const switched = new Set<string>();
const LINE_MS = 150;

const sleep = (ms: number, signal?: AbortSignal): Promise<boolean> =>
  new Promise((resolve) => {
    if (signal?.aborted) return resolve(false);
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      resolve(false);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });

const STORE = '/nix/store/';
const hash = (s: string): string => {
  let h = 2166136261;
  for (const c of s) h = Math.imul(h ^ c.charCodeAt(0), 16777619) >>> 0;
  const a = 'abcdfghijklmnpqrsvwxyz0123456789';
  let out = '';
  for (let i = 0; i < 32; i++) {
    out += a[h % a.length];
    h = Math.imul(h ^ i, 2654435761) >>> 0;
  }
  return out;
};

/** What the pending change restarts on this node. */
function unitsOf(ctx: DemoCommandContext): {
  restart: string[];
  reload: string[];
  start: string[];
} {
  const cp = ctx.node.roles.includes('control-plane');
  return {
    restart: cp ? ['kube-apiserver.service', 'kubelet.service'] : ['kubelet.service'],
    reload: ['dbus.service'],
    start: ['k8ops-rotate.timer'],
  };
}

async function rebuild(
  argv: readonly string[],
  ctx: DemoCommandContext,
  opts?: NodeExecOptions,
): Promise<NodeExecResult> {
  const [, action = '', ...rest] = argv;
  const rollback = rest.includes('--rollback');
  const flakeAt = rest.indexOf('--flake');
  const flake = flakeAt >= 0 ? rest[flakeAt + 1] : undefined;
  let stderr = '';
  let stdout = '';
  const say = async (line: string, to: 'stdout' | 'stderr' = 'stderr'): Promise<boolean> => {
    if (to === 'stderr') stderr += `${line}\n`;
    else stdout += `${line}\n`;
    opts?.onOutput?.(`${line}\n`, to);
    return sleep(LINE_MS, opts?.signal);
  };
  const killed = (): NodeExecResult => ({ stdout, stderr, code: null });
  if (!['switch', 'test', 'boot', 'dry-activate'].includes(action))
    return { stdout: '', stderr: `error: unknown action '${action}'\n`, code: 1 };
  if (!rollback && !flake?.endsWith(`#${ctx.node.name}`))
    return { stdout: '', stderr: `error: flake attribute for ${ctx.node.name} missing\n`, code: 1 };
  const key = `${ctx.labDir}|${ctx.node.name}`;
  const pending = rollback ? switched.has(key) : !switched.has(key);
  const system = `${STORE}${hash(`${key}${pending}`)}-nixos-system-${ctx.node.name}-25.05.20250901`;
  if (!rollback) {
    if (!(await say('building the system configuration...'))) return killed();
    if (pending) {
      if (!(await say('these 2 derivations will be built:'))) return killed();
      for (const d of ['etc', `nixos-system-${ctx.node.name}-25.05.20250901`]) {
        if (!(await say(`  ${STORE}${hash(d + key)}-${d}.drv`))) return killed();
      }
      for (const d of ['etc', `nixos-system-${ctx.node.name}-25.05.20250901`])
        if (!(await say(`building '${STORE}${hash(d + key)}-${d}.drv'...`))) return killed();
    }
  }
  const u = unitsOf(ctx);
  if (action === 'dry-activate') {
    if (pending && !(await say('would stop the following units: kube-proxy.service')))
      return killed();
    if (!(await say('would activate the configuration...'))) return killed();
    if (pending) {
      await say(`would reload the following units: ${u.reload.join(', ')}`);
      await say(`would restart the following units: ${u.restart.join(', ')}`);
      if (!(await say(`would start the following units: ${u.start.join(', ')}`))) return killed();
    }
    return { stdout, stderr, code: 0 };
  }
  if (action === 'boot') {
    await say('updating GRUB 2 menu...');
    if (rollback) switched.delete(key);
    else switched.add(key);
    return { stdout, stderr, code: 0 };
  }
  for (const l of ['activating the configuration...', 'setting up /etc...'])
    if (!(await say(l, 'stdout'))) return killed();
  if (pending) {
    await say('stopping the following units: kube-proxy.service', 'stdout');
    await say(`reloading the following units: ${u.reload.join(', ')}`, 'stdout');
    await say(`restarting the following units: ${u.restart.join(', ')}`, 'stdout');
    if (!(await say(`the following new units were started: ${u.start.join(', ')}`, 'stdout')))
      return killed();
  }
  if (rollback) switched.delete(key);
  else if (action === 'switch') switched.add(key);
  await say(`Done. The new configuration is ${system}`, 'stdout');
  return { stdout, stderr, code: 0 };
}

export const demoRebuildCommands: readonly DemoCommand[] = [
  { program: 'nixos-rebuild', run: rebuild },
  {
    // etcdctl --endpoints=https://ADDR:2379,… [-w json] endpoint health --cluster: every demo
    // member is healthy (each endpoint answers, as the real --cluster lists the members).
    program: 'etcdctl',
    matches: (argv) => argv.includes('endpoint') && argv.includes('health'),
    run: (argv, ctx) => {
      const eps = (
        argv.find((a) => a.startsWith('--endpoints='))?.slice('--endpoints='.length) ?? ''
      ).split(',');
      const json = argv.includes('json');
      if (!ctx.node.roles.includes('etcd'))
        return {
          stdout: '',
          stderr: `{"level":"warn","msg":"retrying of unary invoker failed","error":"rpc error: code = DeadlineExceeded desc = latest balancer error: connection error: desc = \\"transport: Error while dialing: dial tcp: connect: connection refused\\""}\nError: failed to fetch endpoints from etcd cluster member list: context deadline exceeded\n`,
          code: 1,
        };
      return {
        stdout: json
          ? `${JSON.stringify(eps.map((e, i) => ({ endpoint: e, health: true, took: `${(2.318 + i * 0.41).toFixed(3)}ms` })))}\n`
          : eps
              .map((e) => `${e} is healthy: successfully committed proposal: took = 2.318ms\n`)
              .join(''),
        stderr: '',
        code: 0,
      };
    },
  },
];
