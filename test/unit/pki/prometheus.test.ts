/** node-exporter textfile metrics: series per certificate occurrence, checks, escaping. */
import { beforeAll, describe, expect, it } from 'vitest';
import { escapeHelp, escapeLabelValue, prometheusText } from '../../../src/pki/prometheus.js';
import { buildPkiReport, type PkiReport } from '../../../src/pki/report.js';
import { DAY, issue, makeRoot, NOW, nodeInput, settings } from '../../helpers/pki-certs.js';

const PKI = '/etc/kubernetes/pki';
let report: PkiReport;

beforeAll(async () => {
  const root = await makeRoot();
  const kca = await issue(root, { cn: 'kubernetes-ca', o: ['k8ops'], ca: { pathlen: 0 } });
  const kubelet = await issue(kca, {
    cn: 'system:node:worker-1',
    o: ['system:nodes'],
    dns: ['worker-1'],
    ips: ['10.77.0.21'],
    eku: ['serverAuth'],
    notBefore: NOW - 11 * DAY,
  });
  const odd = await issue(kca, { cn: 'we"ird\nx', eku: ['clientAuth'] });
  report = buildPkiReport({
    nodes: [
      nodeInput(
        { name: 'worker-1', roles: ['worker'], addresses: ['10.77.0.21'] },
        {
          [`${PKI}/kubelet.pem`]: { content: kubelet.pem + kca.pem },
          [`${PKI}/kubelet-key.pem`]: { content: kubelet.keyPem, mode: 0o640 },
          [`${PKI}/odd "quoted"\\x.pem`]: { content: odd.pem },
          [`${PKI}/kubernetes-ca.pem`]: { content: kca.pem },
        },
      ),
    ],
    problems: [
      { kind: 'node', key: 'node:worker-2', node: 'worker-2', source: 'certs', message: 'down' },
    ],
    settings: settings(),
  });
});

describe('escaping (text format 0.0.4)', () => {
  it('label values escape backslash, double quote and newline; HELP escapes backslash and newline', () => {
    expect(escapeLabelValue('a\\b"c\nd')).toBe('a\\\\b\\"c\\nd');
    expect(escapeLabelValue('plain /etc/kubernetes/pki/x.pem')).toBe(
      'plain /etc/kubernetes/pki/x.pem',
    );
    expect(escapeHelp('x\\y\nz "q"')).toBe('x\\\\y\\nz "q"');
  });
});

describe('prometheusText', () => {
  it('one not_after series per certificate occurrence, labelled node/path/index/cn/issuer/role', () => {
    const text = prometheusText(report, { nodes: ['worker-1', 'worker-2'] });
    const lines = text.split('\n');
    const notAfter = lines.filter((l) => l.startsWith('k8ops_cert_not_after_seconds{'));
    // kubelet.pem: leaf + intermediate; the odd file; the bundle.
    expect(notAfter).toHaveLength(4);
    const leaf = notAfter.find((l) => l.includes('cn="system:node:worker-1"'))!;
    expect(leaf).toMatch(
      /^k8ops_cert_not_after_seconds\{node="worker-1",path="\/etc\/kubernetes\/pki\/kubelet\.pem",index="0",cn="system:node:worker-1",issuer="kubernetes-ca",role="leaf"\} \d+$/,
    );
    expect(text).toContain(
      'path="/etc/kubernetes/pki/odd \\"quoted\\"\\\\x.pem",index="0",cn="we\\"ird\\nx"',
    );
    expect(text).toContain('# TYPE k8ops_cert_not_after_seconds gauge');
    // Every sample line is `name{labels} value` or `name value`: no raw newline inside labels.
    for (const l of lines.filter((x) => x && !x.startsWith('#')))
      expect(l).toMatch(/^[a-z0-9_]+(\{.*\})? [0-9.]+$/);
  });

  it('check series per node/path/check/severity, totals, node_up and the exit code', () => {
    const text = prometheusText(report, { nodes: ['worker-1', 'worker-2'] });
    expect(text).toContain(
      'k8ops_cert_check{node="worker-1",path="/etc/kubernetes/pki/kubelet.pem",check="renew-window",severity="warning"} 1',
    );
    expect(text).toContain(
      'k8ops_cert_check{node="worker-1",path="/etc/kubernetes/pki/kubelet-key.pem",check="key-mode",severity="warning"} 1',
    );
    expect(text).toMatch(/k8ops_pki_checks\{severity="warning"\} [1-9]/);
    expect(text).toContain('k8ops_pki_node_up{node="worker-1"} 1');
    expect(text).toContain('k8ops_pki_node_up{node="worker-2"} 0');
    expect(text).toContain('k8ops_pki_exit_code 3');
    expect(text.endsWith('\n')).toBe(true);
  });
});
