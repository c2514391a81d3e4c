/**
 * `demo-noop`: a harmless action for the demo and the tests of the job runner, the
 * confirmation overlay and the Jobs pane. It walks the steps a rotation would take, per
 * target node, but only READS: probe the node, list its certificate files, a short wait
 * where a rotation would restart units, then the units' states. It writes nothing anywhere
 * (on a node or in the demo lab). `options.waitMs` sets the wait (default 3 s, at most
 * 60 s); `options.failAt` names a step that fails on purpose (to show a failed job).
 */
import type { ActionFactory, JobContext, JobSpec } from '../types.js';

export const DEMO_NOOP_STEPS = ['probe', 'list certificates', 'wait', 'unit states'] as const;
const MAX_WAIT_MS = 60_000;

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });

export const demoNoopAction: ActionFactory = {
  action: 'demo-noop',
  help: 'demo: walk the steps of a rotation on a node, reading only (writes nothing)',
  async prepare(request, deps) {
    const [node, ...more] = request.targets;
    if (node === undefined || more.length > 0)
      return { ok: false, message: 'demo-noop acts on exactly one node' };
    const spec = deps.inventory.nodes.find((n) => n.name === node);
    const agent = deps.agents.get(node);
    if (!spec || !agent) return { ok: false, message: `no node named "${node}"` };
    const o = request.options ?? {};
    const waitMs =
      typeof o.waitMs === 'number' && o.waitMs >= 0 ? Math.min(o.waitMs, MAX_WAIT_MS) : 3000;
    const failAt = typeof o.failAt === 'string' ? o.failAt : undefined;
    const units = spec.roles.includes('control-plane')
      ? ['etcd.service', 'kube-apiserver.service', 'kubelet.service']
      : ['kubelet.service'];
    const plan = { node, pkiDir: deps.inventory.pki.dir, waitMs, units, writes: 'nothing' };
    const jobSpec: JobSpec = {
      action: 'demo-noop',
      title: `demo-noop ${node} (reads only)`,
      targets: [node],
      plan,
      async run(ctx: JobContext) {
        const step = <T>(name: (typeof DEMO_NOOP_STEPS)[number], fn: () => Promise<T>) =>
          ctx.step(`${node}: ${name}`, async () => {
            if (failAt === name) throw new Error(`${name} failed on purpose (options.failAt)`);
            return fn();
          });
        const probe = await step('probe', () => agent.probe({ signal: ctx.signal }));
        ctx.log(`${node} reachable ${probe.route}, ${Math.round(probe.rttMs)} ms`);
        const files = await step('list certificates', () =>
          agent.readCertFiles(deps.inventory.pki.dir, { signal: ctx.signal }),
        );
        for (const f of files) ctx.log(f.ok ? f.path : `${f.path}: ${f.error}`);
        await step('wait', async () => {
          ctx.log(`waiting ${waitMs} ms where a rotation would restart ${units.join(', ')}`);
          await sleep(waitMs, ctx.signal);
        });
        const states = await step('unit states', () =>
          agent.unitStates(units, { signal: ctx.signal }),
        );
        for (const u of states) ctx.log(`${u.unit}: ${u.state}`);
        return { node, certificates: files.length };
      },
    };
    return {
      ok: true,
      prepared: {
        spec: jobSpec,
        confirm: node,
        planText: [
          `demo-noop on ${node}: reads only, writes nothing`,
          `1. probe ${node}`,
          `2. list the certificates in ${deps.inventory.pki.dir}`,
          `3. wait ${waitMs} ms (where a rotation restarts ${units.join(' → ')})`,
          `4. read the units' states`,
        ],
      },
    };
  },
};
