/**
 * A release-artefact server on loopback for addon sync tests: HTTPS with a self-signed
 * certificate made by the real `openssl` (trusted by the client through `ca`), serving the
 * bytes put in `files` by path with a Content-Length, 404 for anything else.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface ArtefactServer {
  /** `https://127.0.0.1:PORT` */
  base: string;
  /** The certificate to trust (PEM). */
  ca: string;
  /** Path of the certificate file (for NIX_SSL_CERT_FILE, curl --cacert…). */
  caFile: string;
  /** What is served, by path (`/x/y-1.2.3.yaml`). */
  files: Map<string, Buffer>;
  /** Requests answered, by path. */
  hits: Map<string, number>;
  close(): Promise<void>;
}

export async function startArtefactServer(): Promise<ArtefactServer> {
  const dir = mkdtempSync(join(tmpdir(), 'k8ops-artefacts-'));
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      join(dir, 'srv.key'),
      '-out',
      join(dir, 'srv.crt'),
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
    ],
    { stdio: 'ignore' },
  );
  const ca = readFileSync(join(dir, 'srv.crt'), 'utf8');
  const files = new Map<string, Buffer>();
  const hits = new Map<string, number>();
  const server: Server = createServer(
    { key: readFileSync(join(dir, 'srv.key')), cert: ca },
    (req, res) => {
      const path = (req.url ?? '/').split('?')[0]!;
      hits.set(path, (hits.get(path) ?? 0) + 1);
      const body = files.get(path);
      if (!body) {
        res.writeHead(404);
        res.end('not found');
        return;
      }
      res.writeHead(200, { 'content-length': String(body.length) });
      res.end(body);
    },
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    base: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    ca,
    caFile: join(dir, 'srv.crt'),
    files,
    hits,
    async close() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
