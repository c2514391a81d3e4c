// Load for the rotation test, run inside the node's network namespace (ip netns exec):
//   node load.mjs CONFIG_JSON
// config: {host, port, ca, cert, key, stopFile, maxMs, writeEveryMs, hammers}
// - the writer puts one key every writeEveryMs through etcd's v3 JSON gateway, each request
//   on a NEW TLS connection (agent: false), so every write is a handshake that makes etcd
//   re-read its certificate and key;
// - `hammers` loops open TLS connections back to back (a high handshake rate).
// Bounded: stops at stopFile or after maxMs. Prints one JSON summary line on stdout.
import { existsSync, readFileSync } from 'node:fs';
import https from 'node:https';
import { isIP } from 'node:net';
import tls from 'node:tls';

const c = JSON.parse(process.argv[2]);
// ca: the etcd intermediate and the root (Node verifies up to a root).
const creds = {
  ca: c.ca.map((f) => readFileSync(f)),
  cert: readFileSync(c.cert),
  key: readFileSync(c.key),
};
const t0 = Date.now();
const done = () => existsSync(c.stopFile) || Date.now() - t0 > c.maxMs;
const s = { writes: 0, failedWrites: 0, handshakes: 0, failedHandshakes: 0, errors: [] };
const note = (e) => {
  if (s.errors.length < 5) s.errors.push(String(e?.message ?? e));
};

function put(i) {
  const body = JSON.stringify({
    key: Buffer.from(`rotate-${i % 50}`).toString('base64'),
    value: Buffer.from(String(i)).toString('base64'),
  });
  return new Promise((resolve) => {
    const req = https.request(
      {
        host: c.host,
        port: c.port,
        method: 'POST',
        path: '/v3/kv/put',
        agent: false,
        servername: '', // an IP address: no SNI (the certificate's IP SAN is checked)
        timeout: 3000,
        ...creds,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () =>
          resolve(res.statusCode === 200 ? null : `HTTP ${res.statusCode}: ${text}`),
        );
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e) => resolve(e));
    req.end(body);
  });
}

async function writer() {
  for (let i = 0; !done(); i++) {
    const started = Date.now();
    const err = await put(i);
    s.writes++;
    if (err) {
      s.failedWrites++;
      note(err);
    }
    const wait = c.writeEveryMs - (Date.now() - started);
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
}

function handshake() {
  return new Promise((resolve) => {
    const sock = tls.connect({
      host: c.host,
      port: c.port,
      // SNI never carries an IP address (Node 26 refuses one); the certificate is checked against the IP.
      ...(isIP(c.host) ? {} : { servername: c.host }),
      ...creds,
      timeout: 3000,
    });
    sock.on('secureConnect', () => {
      sock.destroy();
      resolve(null);
    });
    sock.on('timeout', () => sock.destroy(new Error('timeout')));
    sock.on('error', (e) => resolve(e));
  });
}
async function hammer() {
  while (!done()) {
    const err = await handshake();
    s.handshakes++;
    if (err) {
      s.failedHandshakes++;
      note(err);
    }
  }
}

await Promise.all([writer(), ...Array.from({ length: c.hammers }, hammer)]);
s.ms = Date.now() - t0;
process.stdout.write(`${JSON.stringify(s)}\n`);
