import { describe, expect, it } from 'vitest';
import { sh, UnsafeValueError } from '../../../src/ssh/quote.js';
import {
  FramedStream,
  HANDSHAKE_NOISE_LIMIT,
  HandshakeReader,
  handshakeText,
  ResponseReader,
  type ResponseState,
  requestText,
  shellNonce,
} from '../../../src/ssh/shell-protocol.js';

const N = 'nonce_A-1';
const M = `K8SH-${N}`;
const frameOut = (payload: string | Buffer, rc = 0) =>
  Buffer.concat([Buffer.from(`${M} b\n`), Buffer.from(payload), Buffer.from(`\n${M} e ${rc}\n`)]);
const frameErr = (payload: string | Buffer) =>
  Buffer.concat([Buffer.from(`${M} b\n`), Buffer.from(payload), Buffer.from(`\n${M} e\n`)]);

type Done = Extract<ResponseState, { state: 'done' }>;

/** Feed both streams chunk by chunk (in the given order); return the last state. */
function feed(
  r: ResponseReader,
  parts: Array<['out' | 'err', Buffer]>,
): { last: ResponseState; states: ResponseState[] } {
  const states: ResponseState[] = [];
  let last: ResponseState = { state: 'pending' };
  for (const [s, b] of parts) {
    last = s === 'out' ? r.pushStdout(b) : r.pushStderr(b);
    states.push(last);
  }
  return { last, states };
}

function split(b: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < b.length; i += size) out.push(b.subarray(i, i + size));
  return out;
}

describe('request and handshake text', () => {
  it('is constant text plus the script as one quoted word, terminated by a newline', () => {
    const t = requestText(sh`echo "it's"; exit 3`, N);
    expect(t.endsWith('\n')).toBe(true);
    expect(t).toContain(`( eval 'echo "it'\\''s"; exit 3' ) </dev/null`);
    expect(t.split(M).length - 1).toBe(4); // b and e on both streams
    expect(handshakeText(N)).toBe(
      `printf '%s ready %s\\n' ${M} "$$"; printf '%s ready\\n' ${M} >&2\n`,
    );
  });
  it('refuses a nonce outside the token alphabet', () => {
    expect(() => requestText(sh`true`, "x'; reboot; '")).toThrow(UnsafeValueError);
    expect(() => handshakeText('a b')).toThrow(UnsafeValueError);
  });
  it('nonces are random, 144 bits, token-safe', () => {
    const a = shellNonce();
    expect(a).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(shellNonce()).not.toBe(a);
  });
});

describe('ResponseReader', () => {
  const payload = Buffer.from(
    `line 1\n\u0000binary\r\n${M}\nK8SH-other e 0\n K8SH-${N} e 0\nK8SH-${N}x e 0\n\nK8SH-${N}  e 0\nno newline`,
  );
  const out = frameOut(payload, 7);
  const err = frameErr('warning: x\n');

  it('parses both frames, exit status and payloads (marker-like lines inside stay payload)', () => {
    const r = new ResponseReader(N, 1 << 20);
    const { last } = feed(r, [
      ['out', out],
      ['err', err],
    ]);
    expect(last).toMatchObject({ state: 'done', exitCode: 7, trailing: false });
    expect((last as Done).stdout.equals(payload)).toBe(true);
    expect((last as Done).stderr.toString()).toBe('warning: x\n');
  });

  it('empty payloads and a payload ending in newlines', () => {
    const r = new ResponseReader(N, 10);
    expect(feed(r, [['out', frameOut('')]]).last.state).toBe('pending');
    const { last } = feed(r, [['err', frameErr('')]]);
    expect(last).toMatchObject({ state: 'done', exitCode: 0 });
    expect((last as Done).stdout.length).toBe(0);
    const r2 = new ResponseReader(N, 100);
    const d = feed(r2, [
      ['err', frameErr('\n\n')],
      ['out', frameOut('a\n\n')],
    ]).last as Done;
    expect(d.stdout.toString()).toBe('a\n\n');
    expect(d.stderr.toString()).toBe('\n\n');
  });

  it('any chunking and any interleaving of the two streams give the same result', () => {
    for (const size of [1, 2, 3, 5, 8, 13, 64]) {
      const o = split(out, size);
      const e = split(err, size);
      // stderr first, stdout first, and alternating
      const orders: Array<Array<['out' | 'err', Buffer]>> = [
        [
          ...e.map((b) => ['err', b] as ['err', Buffer]),
          ...o.map((b) => ['out', b] as ['out', Buffer]),
        ],
        [
          ...o.map((b) => ['out', b] as ['out', Buffer]),
          ...e.map((b) => ['err', b] as ['err', Buffer]),
        ],
        Array.from({ length: Math.max(o.length, e.length) }, (_, i) => [
          ...(o[i] ? [['out', o[i]] as ['out', Buffer]] : []),
          ...(e[i] ? [['err', e[i]] as ['err', Buffer]] : []),
        ]).flat(),
      ];
      for (const parts of orders) {
        const r = new ResponseReader(N, 1 << 20);
        const { last, states } = feed(r, parts);
        expect(states.slice(0, -1).every((s) => s.state === 'pending')).toBe(true);
        expect(last.state).toBe('done');
        expect((last as Done).stdout.equals(payload)).toBe(true);
        expect((last as Done).stderr.toString()).toBe('warning: x\n');
        expect((last as Done).exitCode).toBe(7);
      }
    }
  });

  it('truncated at any byte: pending, never done with partial data, never throws', () => {
    for (let cut = 0; cut < out.length; cut++) {
      const r = new ResponseReader(N, 1 << 20);
      r.pushStderr(err);
      expect(r.pushStdout(out.subarray(0, cut)).state).toBe('pending');
    }
    for (let cut = 0; cut < err.length; cut++) {
      const r = new ResponseReader(N, 1 << 20);
      r.pushStdout(out);
      expect(r.pushStderr(err.subarray(0, cut)).state).toBe('pending');
    }
  });

  it('a frame of another request (other nonce) is a protocol error, not data', () => {
    const other = Buffer.from(`K8SH-other b\nhello\nK8SH-other e 0\n`);
    const r = new ResponseReader(N, 1 << 20);
    expect(r.pushStdout(other)).toMatchObject({ state: 'protocol' });
    // the old request's end marker arriving inside this one's payload is just payload
    const r2 = new ResponseReader(N, 1 << 20);
    const d = feed(r2, [
      ['out', frameOut('\nK8SH-prev e 0\n')],
      ['err', frameErr('')],
    ]).last as Done;
    expect(d.stdout.toString()).toBe('\nK8SH-prev e 0\n');
  });

  it('garbage before the frame is a protocol error; bytes after it mark the shell unusable', () => {
    for (const junk of ['x', 'motd\n', `${M} e 0\n`, ' ']) {
      const r = new ResponseReader(N, 1 << 20);
      const st = r.pushStdout(Buffer.concat([Buffer.from(junk), out]));
      expect(st).toMatchObject({ state: 'protocol', reason: expect.stringMatching(/^stdout:/) });
    }
    const r = new ResponseReader(N, 1 << 20);
    r.pushStderr(err);
    const st = r.pushStdout(Buffer.concat([out, Buffer.from('late output')]));
    expect(st).toMatchObject({ state: 'done', trailing: true, exitCode: 7 });
    const r2 = new ResponseReader(N, 1 << 20);
    r2.pushStdout(out);
    expect(r2.pushStderr(Buffer.concat([err, Buffer.from('x')]))).toMatchObject({
      state: 'done',
      trailing: true,
    });
  });

  it('malformed end markers are protocol errors', () => {
    for (const tail of [' x', ' 256', ' -1', ' 1 2', `${'9'.repeat(40)}`, '']) {
      const r = new ResponseReader(N, 1 << 20);
      r.pushStderr(err);
      const st = r.pushStdout(Buffer.from(`${M} b\nhi\n${M} e${tail}\n`));
      expect(st.state).toBe('protocol');
    }
    const r = new ResponseReader(N, 1 << 20);
    r.pushStdout(out);
    expect(r.pushStderr(Buffer.from(`${M} b\n\n${M} e 0\n`)).state).toBe('protocol');
  });

  it('output cap counts stdout + stderr payload; exactly at the cap is fine', () => {
    const size = payload.length + 'warning: x\n'.length;
    const ok = new ResponseReader(N, size);
    expect(
      feed(ok, [
        ['out', out],
        ['err', err],
      ]).last.state,
    ).toBe('done');
    const over = new ResponseReader(N, size - 1);
    expect(
      feed(over, [
        ['out', out],
        ['err', err],
      ]).last,
    ).toMatchObject({ state: 'output-limit' });
    // a never-ending stream trips the cap while streaming, without a frame end
    const r = new ResponseReader(N, 1000);
    r.pushStdout(Buffer.from(`${M} b\n`));
    let st: ResponseState = { state: 'pending' };
    for (let i = 0; i < 20 && st.state === 'pending'; i++)
      st = r.pushStdout(Buffer.alloc(100, 'y'));
    expect(st.state).toBe('output-limit');
    expect(r.stdout.payloadBytes).toBeLessThanOrEqual(1100);
  });

  it('FramedStream keeps only the few bytes that may start the marker across chunks', () => {
    const f = new FramedStream(N);
    f.push(Buffer.from(`${M} b\n`));
    f.push(Buffer.alloc(100_000, 'a'));
    expect(f.payloadBytes).toBeGreaterThan(100_000 - M.length - 4);
    f.push(Buffer.from(`\n${M.slice(0, 5)}`));
    f.push(Buffer.from(`${M.slice(5)} e 0`));
    expect(f.done).toBe(false);
    f.push(Buffer.from('\n'));
    expect(f.done).toBe(true);
    expect(f.payload().length).toBe(100_000);
  });
});

describe('HandshakeReader', () => {
  const outLine = Buffer.from(`${M} ready 4242\n`);
  const line = Buffer.from(`${M} ready\n`);
  it('skips login noise before the line on both streams, in any chunking; reads the pid', () => {
    const out = Buffer.concat([Buffer.from('Welcome!\nlast login…'), outLine]);
    const err = Buffer.concat([Buffer.from('bashrc: warning\n'), line]);
    for (const size of [1, 3, 7, 1000]) {
      const h = new HandshakeReader(N);
      for (const b of split(out, size)) h.push('stdout', b);
      expect(h.state).toBe('pending');
      for (const b of split(err, size)) h.push('stderr', b);
      expect(h.state).toBe('ready');
      expect(h.pid).toBe(4242);
    }
  });
  it('a foreign or malformed ready line does not count; output after the line is an error', () => {
    const h = new HandshakeReader(N);
    h.push('stdout', Buffer.from(`K8SH-other ready 1\n${M} ready\n${M} ready x\n`));
    h.push('stderr', Buffer.from(`${M} ready 12\n`));
    expect(h.state).toBe('pending');
    h.push('stderr', line);
    expect(h.state).toBe('pending');
    h.push('stdout', Buffer.concat([outLine, Buffer.from('x')]));
    expect(h.state).toBe('error');
  });
  it('gives up after a bounded amount of noise', () => {
    const h = new HandshakeReader(N);
    h.push('stdout', Buffer.alloc(HANDSHAKE_NOISE_LIMIT + 1, 'n'));
    expect(h.state).toBe('error');
    expect(h.error).toMatch(/no handshake/);
  });
});
