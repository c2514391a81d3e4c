import { isIP } from 'node:net';
import { describe, expect, it } from 'vitest';
import {
  checkHost,
  checkLocalPath,
  checkNodeName,
  checkRemotePath,
  checkUser,
  formatJumpHop,
  isIPv4,
  isIPv6,
  isRfc1123Hostname,
  isSafeHost,
  isSafeLocalPath,
  isSafeNodeName,
  isSafeRemotePath,
  isSafeUser,
  parseHostPort,
  parseJumpList,
  parseJumpSpec,
} from '../../../src/config/validate.js';

/** Strings an attacker (or a slip) could put into an inventory to reach a shell or ssh's options. */
const HOSTILE = [
  '$(reboot)',
  '`reboot`',
  'a;b',
  'a b',
  'a\tb',
  'a|b',
  'a&&b',
  'a>b',
  '-oProxyCommand=x',
  '-J',
  'host\nProxyCommand x',
  'host\r',
  'a\u0000b',
  "a'b",
  'a"b',
  'a\\b',
  '../etc',
  '~root',
  '*',
  '',
];

describe('hostile strings are refused by every SSH-facing validator', () => {
  it.each(HOSTILE)('%j', (s) => {
    expect(isSafeHost(s)).toBe(false);
    expect(isSafeNodeName(s)).toBe(false);
    expect(isSafeUser(s)).toBe(false);
    expect(isSafeRemotePath(s)).toBe(false);
    expect(parseJumpSpec(s).ok).toBe(false);
  });

  it('isSafe* are booleans, so `if (isSafeHost(x))` cannot be fooled by a reason string', () => {
    expect(isSafeHost('a;b')).toBe(false);
    expect(typeof isSafeHost('cp-1')).toBe('boolean');
  });
});

describe('checkHost', () => {
  it.each([
    'cp-1',
    'node1.lab.example.net',
    'Bastion',
    'my_alias',
    'lab.bastion-2',
    '10.77.0.11',
    'fd77::11',
    '::1',
    '::ffff:10.0.0.1',
    'a'.repeat(63),
  ])('accepts %s', (h) => {
    expect(checkHost(h)).toEqual({ ok: true });
  });

  it.each([
    ['a;b', /contains ";", a shell metacharacter; expected a host name/],
    ['a b', /contains whitespace/],
    ['$(reboot)', /contains "\$", a shell metacharacter/],
    ['-oProxyCommand=x', /starts with "-" \(ssh would read it as an option\)/],
    ['host\nx', /contains a control character \("\\n"\)/],
    ['root@cp-1', /contains "@"; give the user/],
    ['cp-1:22', /contains a port/],
    ['[fd00::1]', /without brackets/],
    ['fd00:::1', /not a valid IPv6 address/],
    ['999.1.1.1', /looks like an IPv4 address but is not a valid one/],
    ['.hidden', /must start with a letter, digit or "_"/],
    ['a'.repeat(254), /at most 253/],
  ])('rejects %j with a reason', (h, reason) => {
    const r = checkHost(h);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(reason);
  });
});

describe('isRfc1123Hostname', () => {
  it('accepts host names and rejects aliases that are not', () => {
    expect(isRfc1123Hostname('node-1.example.net')).toBe(true);
    expect(isRfc1123Hostname('my_alias')).toBe(false);
    expect(isRfc1123Hostname('-a.example')).toBe(false);
    expect(isRfc1123Hostname('a-.example')).toBe(false);
    expect(isRfc1123Hostname(`${'a'.repeat(64)}.example`)).toBe(false);
    expect(isRfc1123Hostname('1.2.3.4')).toBe(false);
  });
});

describe('IP literals', () => {
  const samples = [
    '10.0.0.1',
    '255.255.255.255',
    '0.0.0.0',
    '256.0.0.1',
    '10.0.0',
    '10.0.0.1.2',
    '::',
    '::1',
    'fd00::1',
    'fe80::1:2:3:4:5:6',
    '1:2:3:4:5:6:7:8',
    '1:2:3:4:5:6:7:8:9',
    '1::2::3',
    '::ffff:192.0.2.1',
    '1:2:3:4:5:6:192.0.2.1',
    'fd00::12345',
    'gggg::1',
    ':1',
    '1:',
    '1:2:3:4:5:6:7::',
    '',
  ];
  it.each(samples)('%j agrees with node:net', (s) => {
    expect(isIPv4(s)).toBe(isIP(s) === 4);
    expect(isIPv6(s)).toBe(isIP(s) === 6);
  });

  it('refuses IPv4 with leading zeros (octal to some parsers)', () => {
    expect(isIPv4('010.0.0.1')).toBe(false);
  });

  it('refuses IPv6 zone ids', () => {
    expect(isIPv6('fe80::1%eth0')).toBe(false);
    expect(isIPv6('fe80::1%$(reboot)')).toBe(false);
  });
});

describe('checkNodeName', () => {
  it('accepts DNS labels', () => {
    for (const n of ['cp-1', 'worker-3', 'a', '0', 'a'.repeat(63)])
      expect(isSafeNodeName(n)).toBe(true);
  });
  it.each([
    ['CP-1', /uppercase letters; use "cp-1"/],
    ['cp_1', /contains "_"/],
    ['-cp', /must start and end with a letter or digit/],
    ['cp-', /must start and end/],
    ['a.b', /contains "\."/],
    ['a'.repeat(64), /at most 63/],
  ])('rejects %j', (n, reason) => {
    const r = checkNodeName(n);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(reason);
  });
});

describe('checkUser', () => {
  it('accepts POSIX user names', () => {
    for (const u of ['root', 'ops', '_svc', 'deploy-bot', 'machine$', 'a1_b-c'])
      expect(isSafeUser(u)).toBe(true);
  });
  it.each([
    ['Root', /uppercase/],
    ['1ops', /must start with a lowercase letter or "_"/],
    ['-ops', /starts with "-"/],
    ['a$b', /contains "\$"/],
    ['o p', /whitespace/],
    ['a'.repeat(33), /at most 32/],
  ])('rejects %j', (u, reason) => {
    const r = checkUser(u);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(reason);
  });
});

describe('checkRemotePath', () => {
  it('accepts absolute paths of safe characters', () => {
    for (const p of ['/etc/kubernetes/pki', '/var/run/cilium/hubble.sock', '/a/b@c+d-e_f.g', '/']) {
      expect(isSafeRemotePath(p)).toBe(true);
    }
  });
  it.each([
    ['../etc', /not absolute/],
    ['/etc/../root', /contains a "\.\." segment/],
    ['/etc/..', /"\.\." segment/],
    ['/etc/pki dir', /whitespace/],
    ['/etc/$(reboot)', /contains "\$", a shell metacharacter/],
    ['/etc/pki\n/x', /control character/],
    ['/etc/a*b', /contains "\*"/],
    ['etc/pki', /not absolute/],
    ['~/pki', /not absolute/],
  ])('rejects %j', (p, reason) => {
    const r = checkRemotePath(p);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(reason);
  });
  it('allows ".." inside a name (not a segment)', () => {
    expect(isSafeRemotePath('/etc/a..b')).toBe(true);
  });
});

describe('checkLocalPath', () => {
  it('accepts ~, ~/…, absolute and relative paths, spaces included', () => {
    for (const p of ['~', '~/.ssh/id_ed25519', '/home/me/kube config', 'nix/addons/addons.json']) {
      expect(isSafeLocalPath(p)).toBe(true);
    }
  });
  it.each([
    ['a\u0000b', /control character/],
    ['a\nb', /control character/],
    ['~root/.ssh/id', /"~user" paths are not supported/],
    ['', /is empty/],
  ])('rejects %j', (p, reason) => {
    const r = checkLocalPath(p);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(reason);
  });
});

describe('parseJumpSpec', () => {
  it.each([
    ['bastion', { host: 'bastion' }],
    ['ops@bastion', { user: 'ops', host: 'bastion' }],
    ['ops@bastion.example.net:2222', { user: 'ops', host: 'bastion.example.net', port: 2222 }],
    ['10.0.0.1:22', { host: '10.0.0.1', port: 22 }],
    ['ops@[fd00::1]:2222', { user: 'ops', host: 'fd00::1', port: 2222 }],
    ['[fd00::1]', { host: 'fd00::1' }],
    ['ssh://ops@bastion:2222', { user: 'ops', host: 'bastion', port: 2222 }],
  ])('%s', (spec, hop) => {
    expect(parseJumpSpec(spec)).toEqual({ ok: true, hop });
  });

  it.each([
    ['ops@bastion:99999', /port 99999 is out of range/],
    ['ops@bastion:22x', /port "22x" is not a number/],
    ['Ops@bastion', /user "Ops"/],
    ['ops@a;b', /host "a;b" contains ";"/],
    ['fd00::1', /IPv6 addresses must be written in brackets/],
    ['[fd00::1', /unterminated "\["/],
    ['[nope]:22', /not an IPv6 address/],
    ['ops@', /missing host/],
    ['-oProxyCommand=x', /starts with "-"/],
    ['ops@-oProxyCommand=x', /starts with "-"/],
    ['a b', /whitespace/],
  ])('rejects %j', (spec, reason) => {
    const r = parseJumpSpec(spec);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(reason);
  });

  it('formats hops back, bracketing IPv6 before a port', () => {
    expect(formatJumpHop({ user: 'ops', host: 'fd00::1', port: 22 })).toBe('ops@[fd00::1]:22');
    expect(formatJumpHop({ host: 'bastion' })).toBe('bastion');
  });
});

describe('parseJumpList', () => {
  it('splits the comma form, first hop first', () => {
    const r = parseJumpList('ops@bastion:2222, inner');
    expect(r).toEqual({
      ok: true,
      specs: ['ops@bastion:2222', 'inner'],
      hops: [{ user: 'ops', host: 'bastion', port: 2222 }, { host: 'inner' }],
    });
  });
  it('treats "none" as no jump host', () => {
    expect(parseJumpList('none')).toEqual({ ok: true, hops: [], specs: [] });
  });
  it('names the bad hop', () => {
    const r = parseJumpList('bastion,a;b');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.index).toBe(1);
  });
  it('refuses an empty hop', () => {
    expect(parseJumpList('bastion,').ok).toBe(false);
  });
});

describe('parseHostPort', () => {
  it('parses host:port and [v6]:port', () => {
    expect(parseHostPort('hubble-relay.kube-system.svc:80')).toEqual({
      ok: true,
      host: 'hubble-relay.kube-system.svc',
      port: 80,
    });
    expect(parseHostPort('[fd00::1]:4245')).toEqual({ ok: true, host: 'fd00::1', port: 4245 });
  });
  it('requires the port', () => {
    const r = parseHostPort('relay');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(/missing ":port"/);
  });
  it('refuses hostile hosts', () => {
    expect(parseHostPort('$(reboot):80').ok).toBe(false);
    expect(parseHostPort('-x:80').ok).toBe(false);
  });
});
