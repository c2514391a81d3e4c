/** Workloads → addon versions (parseWorkload, parseImage, addonOf) over test/fixtures/kube. */
import { describe, expect, it } from 'vitest';
import { addonOf, parseImage, parseWorkload } from '../../../../src/kube/parse/workload.js';
import { fx } from './fixtures.js';

describe('workloads and addon versions', () => {
  it('prefers app.kubernetes.io/version, else the main image tag', () => {
    expect(
      parseWorkload(fx('deployment-ingress-nginx-controller.json'), 'Deployment'),
    ).toMatchObject({
      addon: 'ingress-nginx',
      version: '1.13.3',
      versionSource: 'label',
      ready: 2,
      desired: 2,
    });
    expect(parseWorkload(fx('daemonset-cilium.json'), 'DaemonSet')).toMatchObject({
      addon: 'cilium',
      version: 'v1.18.2',
      versionSource: 'image',
      ready: 6,
      desired: 6,
    });
    expect(parseWorkload(fx('deployment-cilium-operator.json'), 'Deployment')?.addon).toBe(
      'cilium-operator',
    );
    expect(parseWorkload(fx('deployment-hubble-relay.json'), 'Deployment')?.addon).toBe(
      'hubble-relay',
    );
  });

  it('image references: registry ports, digests, no tag', () => {
    expect(parseImage('c', 'registry.lab:5000/cilium/cilium:v1.18.2@sha256:abcd')).toEqual({
      container: 'c',
      image: 'registry.lab:5000/cilium/cilium:v1.18.2@sha256:abcd',
      tag: 'v1.18.2',
      digest: 'sha256:abcd',
    });
    expect(parseImage('c', 'registry.lab:5000/coredns')).toEqual({
      container: 'c',
      image: 'registry.lab:5000/coredns',
    });
    expect(addonOf('coredns', {})).toBe('coredns');
    expect(addonOf('something', {})).toBe('something');
  });
});
