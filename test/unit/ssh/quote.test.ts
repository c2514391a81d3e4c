import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import {
  argvCommand,
  isSafeHost,
  isSafeProgram,
  isSafeRemotePath,
  isSafeUnitName,
  isSafeUser,
  posixSh,
  remotePath,
  type ShellArg,
  sh,
  shQuote,
  UnsafeValueError,
  unitName,
} from '../../../src/ssh/quote.js';

const HOSTILE = [
  "it's",
  '$(touch /tmp/k8ops-pwned)',
  '`id`',
  '; rm -rf / #',
  '"double" \\back\\slash',
  "''''",
  "'",
  `$HOME $\u007bIFS} !! *`,
  'new\nline',
  '\t tab',
  '-n',
  '--',
  'a=b',
  '',
  'ünïcødé ✓',
  '\u0001\u007f',
];

/** What the real POSIX sh makes of the quoted word. */
function roundTrip(value: string): string {
  return execFileSync('sh', ['-c', `printf '%s' ${shQuote(value)}`]).toString('utf8');
}

describe('shQuote', () => {
  it('round-trips hostile strings through the real sh unchanged', () => {
    for (const v of HOSTILE) expect(roundTrip(v)).toBe(v);
  });
  it('always quotes; refuses NUL', () => {
    expect(shQuote('abc')).toBe("'abc'");
    expect(shQuote("it's")).toBe("'it'\\''s'");
    expect(() => shQuote('a\0b')).toThrow(UnsafeValueError);
  });
});

describe('validators', () => {
  it('paths', () => {
    for (const ok of ['/etc/kubernetes/pki/ca.pem', '/a b/c', "/it's", '/$(x)', '/'])
      expect(isSafeRemotePath(ok)).toBe(true);
    for (const bad of [
      '',
      'relative',
      '/a/../b',
      '/a/./b',
      '/a\nb',
      '/a\u0000b',
      '/a\rb',
      '../x',
      `/${'x'.repeat(5000)}`,
    ])
      expect(isSafeRemotePath(bad)).toBe(false);
  });
  it('hosts and users', () => {
    for (const ok of [
      'node1',
      'node-1.example.net',
      '10.0.0.1',
      '2001:db8::1',
      '[2001:db8::1]',
      'a_b',
    ])
      expect(isSafeHost(ok)).toBe(true);
    for (const bad of ['-oProxyCommand=x', 'a;b', 'a b', '', 'a..b', 'h$(x)', 'a/b', '.a', 'a\n'])
      expect(isSafeHost(bad)).toBe(false);
    for (const ok of ['root', 'ops', '_svc', 'a.b-c']) expect(isSafeUser(ok)).toBe(true);
    for (const bad of ['-l', 'a b', 'r;id', '', '1abc', 'x'.repeat(65)])
      expect(isSafeUser(bad)).toBe(false);
  });
  it('unit names', () => {
    for (const ok of [
      'kubelet.service',
      'etcd',
      'getty@tty1.service',
      'sys-devices-x\\x2d1.device',
    ])
      expect(isSafeUnitName(ok)).toBe(true);
    for (const bad of ['--all', 'a;b', 'a b', '', 'a/b', '../x'])
      expect(isSafeUnitName(bad)).toBe(false);
  });
});

describe('sh builder', () => {
  it('quotes interpolated values and keeps template text', () => {
    const p = remotePath("/tmp/it's $(x)");
    expect(sh`cat -- ${p}`.text).toBe("cat -- '/tmp/it'\\''s $(x)'");
    expect(sh`systemctl is-active ${unitName('kubelet.service')}`.text).toBe(
      "systemctl is-active 'kubelet.service'",
    );
  });
  it('refuses anything that is not a ShellArg, at runtime too', () => {
    const forged = { quoted: '$(id)' } as unknown as ShellArg;
    expect(() => sh`echo ${forged}`).toThrow(TypeError);
  });
  it('validating constructors throw before anything is built', () => {
    expect(() => remotePath('/a/../etc/shadow')).toThrow(UnsafeValueError);
    expect(() => unitName('x;reboot')).toThrow(/refused unit name/);
  });
  it('posixSh wraps a script so it runs under sh whatever the login shell', () => {
    const cmd = posixSh(sh`printf '%s|' ${remotePath('/a b')} ${remotePath("/it's")}`);
    expect(cmd.text.startsWith('sh -c ')).toBe(true);
    expect(execFileSync('sh', ['-c', cmd.text]).toString()).toBe("/a b|/it's|");
  });
});

describe('argvCommand (NodeAgent.exec)', () => {
  it('each argument reaches the program as one word, whatever it holds', () => {
    const hostile = [`a b`, `$(id)`, '`id`', `it's`, '"; rm -rf / #', '*', '', '\t', '-n'];
    const cmd = argvCommand(['printf', '%s\\n', ...hostile]);
    const out = execFileSync('sh', ['-c', cmd.text], { encoding: 'utf8' });
    expect(out.split('\n').slice(0, -1)).toEqual(hostile);
  });

  it('refuses a program that is an option, relative with .., empty or with controls', () => {
    for (const p of ['-rf', '../sh', 'bin/../sh', '', 'a b', 'x\n', '/usr/../bin/sh', '$(id)'])
      expect(() => argvCommand([p]), p).toThrow(UnsafeValueError);
    expect(() => argvCommand([])).toThrow(UnsafeValueError);
    expect(argvCommand(['/usr/sbin/ip', '-j']).text).toBe(`'/usr/sbin/ip' '-j'`);
    expect(isSafeProgram('gobgp')).toBe(true);
  });

  it('refuses an argument with a newline or another control byte (tab is allowed)', () => {
    for (const a of ['a\nb', 'a\rb', '\x1b[2J', 'a\0b', '\x7f'])
      expect(() => argvCommand(['echo', a]), JSON.stringify(a)).toThrow(UnsafeValueError);
    expect(() => argvCommand(['echo', 'a\tb'])).not.toThrow();
  });
});
