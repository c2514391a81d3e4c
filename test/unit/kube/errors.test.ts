import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  describeResource,
  errorFromNetwork,
  errorFromResponse,
  errorFromWatchStatus,
  KubeError,
  oneLine,
  partialTrustChainSupported,
  toKubeErrorInfo,
} from '../../../src/kube/errors.js';

const fx = (name: string): string =>
  readFileSync(join(import.meta.dirname, '..', '..', 'fixtures', 'kube', name), 'utf8');

describe('errors from API Status objects', () => {
  it('401: unauthorized, naming the kubeconfig user', () => {
    const e = errorFromResponse(
      401,
      fx('status-401.json'),
      { verb: 'list', resource: 'nodes' },
      { user: 'lab-admin' },
    );
    expect(e).toBeInstanceOf(KubeError);
    expect(e.kind).toBe('unauthorized');
    expect(e.code).toBe(401);
    expect(e.message).toBe(
      'unauthorized: the API server rejected the credentials of kubeconfig user "lab-admin" (401 Unauthorized) on list nodes',
    );
  });

  it('403: forbidden, with the user, verb and resource from the Status message', () => {
    const e = errorFromResponse(403, fx('status-403.json'), {
      verb: 'watch',
      resource: 'pods',
      namespace: 'kube-system',
    });
    expect(e.toInfo()).toEqual({
      kind: 'forbidden',
      message: 'forbidden: User "viewer" cannot watch pods in namespace "kube-system" (403)',
    });
    const cluster = errorFromResponse(
      403,
      JSON.stringify({
        kind: 'Status',
        status: 'Failure',
        message:
          'ciliumbgpnodeconfigs.cilium.io is forbidden: User "jane" cannot list resource "ciliumbgpnodeconfigs" in API group "cilium.io" at the cluster scope',
        reason: 'Forbidden',
        code: 403,
      }),
      { verb: 'list', resource: 'ciliumbgpnodeconfigs', group: 'cilium.io' },
    );
    expect(cluster.message).toBe(
      'forbidden: User "jane" cannot list ciliumbgpnodeconfigs.cilium.io at the cluster scope (403)',
    );
  });

  it('403 without a parseable message falls back to the request', () => {
    const e = errorFromResponse(403, 'nope', {
      verb: 'get',
      resource: 'pods/log',
      namespace: 'ingress-nginx',
      name: 'c-1',
    });
    expect(e.message).toBe(
      'forbidden: cannot get pods/log "c-1" in namespace "ingress-nginx" (403)',
    );
  });

  it('404, 410 and others', () => {
    expect(
      errorFromResponse(404, fx('status-404.json'), {
        verb: 'list',
        resource: 'ciliumbgpnodeconfigs',
        group: 'cilium.io',
      }).toInfo(),
    ).toEqual({
      kind: 'not-found',
      message:
        'not found: list ciliumbgpnodeconfigs.cilium.io: the server could not find the requested resource (404)',
    });
    expect(
      errorFromWatchStatus(JSON.parse(fx('status-410-expired.json')), {
        verb: 'watch',
        resource: 'nodes',
      }).kind,
    ).toBe('gone');
    const e = errorFromResponse(
      500,
      '{"kind":"Status","message":"etcdserver: request timed out","reason":"InternalError","code":500}',
      { verb: 'list', resource: 'nodes' },
    );
    expect(e.message).toBe('list nodes failed: etcdserver: request timed out (500 InternalError)');
  });
});

describe('errors from the network and TLS', () => {
  const err = (code: string, message = code) => Object.assign(new Error(message), { code });

  it('connection refused, reset, no route, DNS', () => {
    expect(errorFromNetwork(err('ECONNREFUSED'), '10.77.0.11:6443', 'x').toInfo()).toEqual({
      kind: 'unreachable',
      message: 'API server 10.77.0.11:6443 unreachable: connection refused (ECONNREFUSED)',
    });
    expect(errorFromNetwork(err('ENOTFOUND'), 'api.lab:6443', 'x').message).toContain(
      'name not found',
    );
    expect(errorFromNetwork(err('EHOSTUNREACH'), 'a:1', 'x').kind).toBe('unreachable');
    expect(errorFromNetwork(err('ETIMEDOUT'), 'a:1', 'x').kind).toBe('timeout');
  });

  it('TLS: unknown CA, name mismatch, expired, handshake alerts', () => {
    expect(errorFromNetwork(err('UNABLE_TO_VERIFY_LEAF_SIGNATURE'), 'a:1', 'x').toInfo()).toEqual({
      kind: 'tls',
      message:
        "TLS: the API server's certificate at a:1 is not signed by the CA in the kubeconfig (UNABLE_TO_VERIFY_LEAF_SIGNATURE); check certificate-authority(-data)",
    });
    const mismatch = Object.assign(
      err(
        'ERR_TLS_CERT_ALTNAME_INVALID',
        "Hostname/IP does not match certificate's altnames: Host: wrong.test. is not in the cert's altnames: DNS:kube-api.test",
      ),
      {
        reason: "Host: wrong.test. is not in the cert's altnames: DNS:kube-api.test",
      },
    );
    expect(errorFromNetwork(mismatch, 'a:1', 'wrong.test').message).toBe(
      `TLS: the API server's certificate is not valid for "wrong.test" (it names DNS:kube-api.test); check the server URL or tls-server-name`,
    );
    expect(errorFromNetwork(err('CERT_HAS_EXPIRED'), 'a:1', 'x').message).toContain('has expired');
    const alert = err(
      'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED',
      'error:0A00045C:SSL routines:ssl3_read_bytes:tlsv13 alert certificate required:../deps/openssl/openssl/ssl/record/rec_layer_s3.c:1601:SSL alert number 116',
    );
    expect(errorFromNetwork(alert, 'a:1', 'x').toInfo()).toEqual({
      kind: 'tls',
      message:
        'TLS handshake with a:1 failed (certificate required); the server may not accept the client certificate in the kubeconfig',
    });
  });

  it('messages are one line, bounded; anything thrown becomes {kind, message}', () => {
    expect(oneLine('a\n\tb\u0007c')).toBe('a b c');
    expect(oneLine('x'.repeat(500)).length).toBe(300);
    expect(toKubeErrorInfo(new Error('boom\nagain'))).toEqual({
      kind: 'error',
      message: 'boom again',
    });
    expect(describeResource({ resource: 'pods', namespace: 'kube-system', name: 'p' })).toBe(
      'pods "p" in namespace "kube-system"',
    );
  });
});

describe('Node support for an intermediate CA as trust anchor', () => {
  it('allowPartialTrustChain: Node 20.18+, 22.9+, 23+', () => {
    expect(partialTrustChainSupported('20.17.0')).toBe(false);
    expect(partialTrustChainSupported('20.18.0')).toBe(true);
    expect(partialTrustChainSupported('22.8.0')).toBe(false);
    expect(partialTrustChainSupported('22.9.0')).toBe(true);
    expect(partialTrustChainSupported('24.1.0')).toBe(true);
    expect(partialTrustChainSupported(process.versions.node)).toBe(true); // this machine
  });
});
