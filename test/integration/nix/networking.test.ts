/**
 * nix/lib/networking.nix (the pure part of the networking module), evaluated: firewall
 * openings per role, MTU 9216 on the listed interfaces, the Cilium values (kube-proxy
 * replacement, CNI paths the kubelet module lets it write to) and the ingress-nginx
 * ConfigMap data (cache with $host in the key, a log format ending in $upstream_cache_status).
 */
import { expect, it } from 'vitest';
import { parseProxyCachePaths } from '../../../src/features/nginx/cache.js';
import { ingressLogFormat } from '../../../src/features/nginx/format.js';
import { describeWith, nixEval, nixEvalRaw, type Tree } from './helpers.js';

interface Net {
  firewall: { allowedTCPPorts: number[]; allowedUDPPorts: number[] };
  interfaces: Record<string, { mtu: number }>;
  ciliumValues: Tree;
  ingressNginxConfig: Record<string, string>;
  logFormat: string;
  tunnelPort: number | null;
}
const net = (args: Record<string, unknown>) =>
  nixEval<Net>('import ./nix/lib/networking.nix args.params', { params: args });

describeWith(['nix-instantiate'], 'nix/lib/networking.nix (evaluated)', () => {
  it('firewall: API server on control-plane, etcd on etcd, kubelet/Cilium/Hubble/BGP/tunnel on every kubernetes node', () => {
    expect(net({ roles: ['control-plane', 'etcd'] }).firewall).toEqual({
      allowedTCPPorts: [6443, 2379, 2380, 10250, 4240, 4244, 4245, 179],
      allowedUDPPorts: [8472],
    });
    expect(net({ roles: ['worker'] }).firewall).toEqual({
      allowedTCPPorts: [10250, 4240, 4244, 4245, 179],
      allowedUDPPorts: [8472],
    });
    expect(net({ roles: ['etcd'] }).firewall).toEqual({
      allowedTCPPorts: [2379, 2380],
      allowedUDPPorts: [],
    });
    expect(net({ roles: ['worker'], tunnelProtocol: 'geneve' }).firewall.allowedUDPPorts).toEqual([
      6081,
    ]);
    expect(net({ roles: ['worker'], routingMode: 'native' }).firewall.allowedUDPPorts).toEqual([]);
    expect(
      net({ roles: ['control-plane'], apiserverPort: 443, bgp: false, hubble: false }).firewall,
    ).toEqual({
      allowedTCPPorts: [443, 10250, 4240],
      allowedUDPPorts: [8472],
    });
  });

  it('MTU 9216 on each listed interface, and those interfaces are Cilium’s devices', () => {
    const n = net({ roles: ['worker'], interfaces: ['enp1s0', 'bond0'] });
    expect(n.interfaces).toEqual({ enp1s0: { mtu: 9216 }, bond0: { mtu: 9216 } });
    expect(n.ciliumValues.devices).toBe('enp1s0 bond0');
    expect(n.ciliumValues.MTU).toBe(9216);
  });

  it('Cilium replaces kube-proxy and writes its CNI config where the kubelet module allows', () => {
    const v = net({
      roles: ['worker'],
      apiserverAddress: '10.77.0.10',
      clusterName: 'lab',
    }).ciliumValues;
    expect(v).toMatchObject({
      kubeProxyReplacement: true,
      k8sServiceHost: '10.77.0.10',
      k8sServicePort: 6443,
      cluster: { name: 'lab' },
      routingMode: 'tunnel',
      tunnelProtocol: 'vxlan',
      tunnelPort: 8472,
      ipam: { mode: 'kubernetes' },
      cni: { confPath: '/var/lib/cni/net.d', binPath: '/opt/cni/bin' },
      bgpControlPlane: { enabled: true },
      hubble: { enabled: true, relay: { enabled: true }, ui: { enabled: true } },
    });
  });

  it('ingress-nginx: proxy cache with $host in the key, buffering on, $upstream_cache_status and $host logged', () => {
    const c = net({ roles: ['worker'] }).ingressNginxConfig;
    expect(c['http-snippet']).toBe(
      'proxy_cache_path /tmp/nginx-cache levels=1:2 keys_zone=ingress_cache:64m max_size=2g inactive=60m use_temp_path=off;\n' +
        'proxy_cache_key "$scheme$request_method$host$request_uri";',
    );
    // k8ops reads the cache's directory and max_size from that directive (the NGINX pane's
    // "cache on disk"): the module and the parser agree on it.
    expect(parseProxyCachePaths(c['http-snippet']!)).toEqual([
      {
        path: '/tmp/nginx-cache',
        zone: 'ingress_cache',
        keysZoneBytes: 64 * 1024 ** 2,
        maxBytes: 2 * 1024 ** 3,
        inactive: '60m',
        levels: '1:2',
      },
    ]);
    expect(c['proxy-buffering']).toBe('on');
    expect(c['log-format-upstream']).toBe(
      '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" $request_length $request_time [$proxy_upstream_name] [$proxy_alternative_upstream_name] $upstream_addr $upstream_response_length $upstream_response_time $upstream_status $req_id $upstream_cache_status $host',
    );
    // … which is, to the character, the format k8ops's NGINX parser is compiled from.
    expect(c['log-format-upstream']).toBe(ingressLogFormat());
    expect(c['location-snippet']).toContain('proxy_cache ingress_cache;');
    expect(c['location-snippet']).toContain('proxy_no_cache $http_authorization;');
    expect(c['location-snippet']).toContain(
      'add_header X-Cache-Status $upstream_cache_status always;',
    );
    expect(c['location-snippet']).not.toContain('proxy_cache_valid');
  });

  it('ingress cache options: http-only scope, zone, validFor, off', () => {
    const httpOnly = net({
      roles: ['worker'],
      cache: { scope: 'http-only', zone: 'z1' },
    }).ingressNginxConfig;
    expect(httpOnly['location-snippet']).toBeUndefined();
    expect(httpOnly['http-snippet']).toContain('keys_zone=z1:64m');
    const valid = net({ roles: ['worker'], cache: { validFor: '10m' } }).ingressNginxConfig;
    expect(valid['location-snippet']).toContain('proxy_cache_valid 200 301 302 10m;');
    const off = net({ roles: ['worker'], cache: { enable: false } }).ingressNginxConfig;
    expect(Object.keys(off)).toEqual(['log-format-upstream']);
  });

  it('rejects unknown routing modes and cache scopes', () => {
    const r = nixEvalRaw(
      'import ./nix/lib/networking.nix { roles = [ "worker" ]; routingMode = "bgp"; }',
    );
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('routingMode must be "tunnel" or "native"');
    const s = nixEvalRaw(
      'import ./nix/lib/networking.nix { roles = [ "worker" ]; cache.scope = "everything"; }',
    );
    expect(s.stderr).toContain('cache.scope must be');
  });
});
