#!/usr/bin/env node
// A feed for the console's event-loop benchmark (flows.mjs part 2b): an Observer gRPC
// server (the real proto's method paths and messages; hubble-relay's role) in its own
// process, so its cost is not the console's. It streams pre-encoded GetFlowsResponse
// messages of the demo lab's flows (src/demo/flows.ts: 6 nodes, node_name set as relay
// does) to every GetFlows follower at RATE flows a second, in batches every 10 ms; what
// the client's flow control holds back queues up to 4 MiB per stream (as relay's send
// buffer would), beyond that a flow is counted lost, as a real agent's ring overwrites
// what is not read. ServerStatus answers too.
// With `--live`, the flows are the demo's own feed (src/demo/flows.ts `nodeFeed`: each
// node's flows drawn by its generator, re-sent with the current time and a fresh uuid), at
// RATE a second exactly — what the demo's hubble-relay sends in the console's process,
// moved out of it (the console's per-pane bench: the Flows pane's own cost).
// Usage: node flows-feed.mjs RATE [--live] — prints `port N`, then `sent S lost L followers F`
// each second.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as grpc from '@grpc/grpc-js';

const ROOT = join(import.meta.dirname, '..', '..');
const load = (p) => import(pathToFileURL(join(ROOT, 'dist', p)).href);
const RATE = Number(process.argv[2] ?? 20_000);
const LIVE = process.argv.includes('--live');
const { demoFlows, labPods, nodeFeed } = await load('src/demo/flows.js');
const proto = await load('src/demo/hubble-proto.js');
const { encodeResponse, encodeServerStatus, GET_FLOWS, SERVER_STATUS } = proto;
const { mulberry32 } = await load('src/store/prng.js');

const NODES = ['cp-1', 'cp-2', 'cp-3', 'worker-1', 'worker-2', 'worker-3'];
const N = 40_000;
const gens = NODES.map((node, i) => demoFlows(i + 1, `demo-lab/${node}`));
const t0 = Date.now();
const msgs = [];
for (let i = 0; i < N; i++) {
  const node = NODES[i % NODES.length];
  const flow = gens[i % NODES.length](t0 + Math.floor(i / 20));
  msgs.push(encodeResponse({ flow, node_name: `demo-lab/${node}`, time: flow.time }));
}

let sent = 0;
let lost = 0;
const followers = new Set();
let next = 0;
const PER_TICK = Math.max(1, Math.round(RATE / 100));
const QUEUE_BYTES = 4 * 1024 * 1024;
// --live: each node's demo feed (its own seed), the nodes in turn.
const pods = labPods();
const live = NODES.map((node, i) =>
  nodeFeed(proto, mulberry32((i + 1) * 7919 + 17), pods, `demo-lab/${node}`),
);
let carry = 0;
let last = Date.now();
setInterval(() => {
  if (LIVE) {
    const now = Date.now();
    carry += ((now - last) * RATE) / 1000;
    last = now;
    const n = Math.floor(carry);
    carry -= n;
    for (let j = 0; j < n; j++) {
      const b = live[next++ % NODES.length](now).bytes;
      for (const f of followers) {
        if (f.call.writableLength > QUEUE_BYTES) lost++;
        else f.call.write(b);
      }
      sent++;
    }
    return;
  }
  for (const f of followers) {
    for (let j = 0; j < PER_TICK; j++) {
      if (f.call.writableLength > QUEUE_BYTES) {
        lost += PER_TICK - j;
        break;
      }
      f.call.write(msgs[next++ % N]);
      sent++;
    }
  }
}, 10);
setInterval(() => {
  process.stdout.write(`sent ${sent} lost ${lost} followers ${followers.size}\n`);
}, 1000);

const server = new grpc.Server();
server.addService(
  {
    GetFlows: {
      path: GET_FLOWS,
      requestStream: false,
      responseStream: true,
      requestSerialize: (x) => x,
      requestDeserialize: (b) => b,
      responseSerialize: (b) => b,
      responseDeserialize: (b) => b,
    },
    ServerStatus: {
      path: SERVER_STATUS,
      requestStream: false,
      responseStream: false,
      requestSerialize: (x) => x,
      requestDeserialize: (b) => b,
      responseSerialize: (b) => b,
      responseDeserialize: (b) => b,
    },
  },
  {
    GetFlows: (call) => {
      const f = { call };
      followers.add(f);
      const done = () => followers.delete(f);
      call.on('cancelled', done);
      call.on('close', done);
      call.on('error', done);
    },
    ServerStatus: (_call, cb) =>
      cb(
        null,
        encodeServerStatus({
          num_flows: 4095,
          max_flows: 4095,
          seen_flows: sent,
          uptime_ns: (Date.now() - t0) * 1e6,
          version: '1.18.6+k8ops-bench-feed',
          num_connected_nodes: { value: NODES.length },
          num_unavailable_nodes: { value: 0 },
        }),
      ),
  },
);
server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) => {
  if (err) throw err;
  process.stdout.write(`port ${port}\n`);
});
process.on('SIGTERM', () => {
  server.forceShutdown();
  process.exit(0);
});
