/**
 * Per-host SSH configuration with OpenSSH semantics.
 *
 * - Primary: `ssh -G [-F file] [-l user] [-p port] [-i identity] -- <host>` (the exact
 *   effective config after Include/Host/Match/tokens), parsed by the pure `parseSshG`.
 * - Fallback when no OpenSSH client is installed: the `ssh-config` package on
 *   ~/.ssh/config + /etc/ssh/ssh_config (or the -F file), Include inlined here, `Match exec`
 *   disabled, OpenSSH defaults filled in (`computeFallback`).
 * - Inventory values override (see `routeForNode`).
 * - ProxyJump chains are expanded the way ssh(1) does (`ProxyJump a,b` for c runs
 *   `ssh -J a -W c b`): each hop is resolved with its own Host block; the last hop of a
 *   multi-hop list is reached through the hops before it, the first hop through whatever
 *   its own config says. Results are cached per resolver (one per run).
 */
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { homedir, hostname as localHostname, userInfo } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';
import SSHConfig from 'ssh-config';
import type { Inventory, NodeSpec } from '../config/types.js';
import { trace } from '../store/trace.js';
import { RemoteExecError } from './errors.js';
import { isSafeHost, isSafePort, isSafeUser } from './quote.js';

/** Raw `ssh -G` output: lower-cased keyword → values in output order (multi-valued kept). */
export type SshGOutput = Map<string, string[]>;

/** Keywords whose one line holds several space-separated values. */
const SPACE_LISTS = new Set(['userknownhostsfile', 'globalknownhostsfile']);

/** Parse `ssh -G` output (`keyword value` per line). Pure; unknown lines are kept as-is. */
export function parseSshG(text: string): SshGOutput {
  const out: SshGOutput = new Map();
  for (const rawLine of text.split('\n')) {
    const line = rawLine.replace(/\r$/, '');
    if (!line.trim()) continue;
    const m = /^\s*(\S+)\s*(.*)$/.exec(line);
    if (!m) continue;
    const key = m[1]!.toLowerCase();
    const value = m[2]!.trim();
    const list = out.get(key) ?? [];
    if (SPACE_LISTS.has(key)) list.push(...value.split(/\s+/).filter(Boolean));
    else list.push(value);
    out.set(key, list);
  }
  return out;
}

export type StrictHostKeyChecking = 'yes' | 'accept-new' | 'no' | 'ask';

/** The effective settings k8ops uses for one host (one hop). */
export interface HostConfig {
  /** The name asked for (alias or host). */
  alias: string;
  hostname: string;
  user: string;
  port: number;
  /** Expanded paths, in order. */
  identityFiles: string[];
  identitiesOnly: boolean;
  /** Agent socket path, or undefined = SSH_AUTH_SOCK; 'none' disables the agent. */
  identityAgent?: string;
  /** Raw hop specs (empty = direct). */
  proxyJump: string[];
  /** ProxyCommand, if set (not supported: reported as a config error). */
  proxyCommand?: string;
  userKnownHostsFiles: string[];
  globalKnownHostsFiles: string[];
  strictHostKeyChecking: StrictHostKeyChecking;
  hashKnownHosts: boolean;
  hostKeyAlias?: string;
  /** Seconds; 0 = off. */
  serverAliveInterval: number;
  serverAliveCountMax: number;
  /** Seconds, if set. */
  connectTimeout?: number;
  /** Where this came from. */
  source: 'ssh -G' | 'ssh-config';
}

export interface TokenContext {
  alias: string;
  hostname: string;
  user: string;
  port: number;
}

/** Expand `~` and the ssh_config(5) percent tokens k8ops can know. */
export function expandTokens(value: string, ctx: TokenContext): string {
  const home = homedir();
  let v = value;
  if (v === '~') v = home;
  else if (v.startsWith('~/')) v = home + v.slice(1);
  const local = userInfo().username;
  const lhost = localHostname();
  return v.replace(/%(.)/g, (all, c: string) => {
    switch (c) {
      case '%':
        return '%';
      case 'd':
        return home;
      case 'u':
        return local;
      case 'h':
        return ctx.hostname;
      case 'n':
        return ctx.alias;
      case 'r':
        return ctx.user;
      case 'p':
        return String(ctx.port);
      case 'l':
        return lhost;
      case 'L':
        return lhost.split('.')[0] ?? lhost;
      case 'i':
        return String(process.getuid?.() ?? 0);
      case 'C':
        return createHash('sha1')
          .update(`${lhost}${ctx.hostname}${ctx.port}${ctx.user}`)
          .digest('hex');
      default:
        return all;
    }
  });
}

function first(raw: SshGOutput, key: string): string | undefined {
  return raw.get(key)?.[0];
}

function yes(v: string | undefined): boolean {
  return v === 'yes' || v === 'true';
}

/** Turn parsed `ssh -G` output (or the fallback's equivalent) into a HostConfig. */
export function hostConfigFromSshG(
  raw: SshGOutput,
  alias: string,
  source: HostConfig['source'] = 'ssh -G',
): HostConfig {
  const hostname = first(raw, 'hostname') ?? alias;
  const user = first(raw, 'user') ?? userInfo().username;
  const port = Number(first(raw, 'port') ?? '22');
  const ctx: TokenContext = { alias, hostname, user, port };
  const pj = first(raw, 'proxyjump');
  const pc = first(raw, 'proxycommand');
  const shkc = (first(raw, 'stricthostkeychecking') ?? 'ask').toLowerCase();
  const strict: StrictHostKeyChecking =
    shkc === 'accept-new'
      ? 'accept-new'
      : shkc === 'no' || shkc === 'off' || shkc === 'false'
        ? 'no'
        : shkc === 'yes' || shkc === 'true'
          ? 'yes'
          : 'ask';
  const ct = first(raw, 'connecttimeout');
  const cfg: HostConfig = {
    alias,
    hostname,
    user,
    port: Number.isFinite(port) ? port : 22,
    identityFiles: (raw.get('identityfile') ?? []).map((f) => expandTokens(f, ctx)),
    identitiesOnly: yes(first(raw, 'identitiesonly')),
    proxyJump:
      pj && pj !== 'none'
        ? pj
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean)
        : [],
    userKnownHostsFiles: (raw.get('userknownhostsfile') ?? []).map((f) => expandTokens(f, ctx)),
    globalKnownHostsFiles: (raw.get('globalknownhostsfile') ?? []).map((f) => expandTokens(f, ctx)),
    strictHostKeyChecking: strict,
    hashKnownHosts: yes(first(raw, 'hashknownhosts')),
    serverAliveInterval: Number(first(raw, 'serveraliveinterval') ?? '0') || 0,
    serverAliveCountMax: Number(first(raw, 'serveralivecountmax') ?? '3') || 3,
    source,
  };
  const agent = first(raw, 'identityagent');
  if (agent !== undefined) {
    cfg.identityAgent = ['SSH_AUTH_SOCK', '$SSH_AUTH_SOCK', '$' + '{SSH_AUTH_SOCK}'].includes(agent)
      ? undefined
      : agent === 'none'
        ? 'none'
        : expandTokens(agent, ctx);
    if (cfg.identityAgent === undefined) delete cfg.identityAgent;
  }
  if (pc && pc !== 'none' && cfg.proxyJump.length === 0) cfg.proxyCommand = pc;
  const alias2 = first(raw, 'hostkeyalias');
  if (alias2 && alias2 !== 'none') cfg.hostKeyAlias = alias2;
  if (ct && ct !== 'none' && Number.isFinite(Number(ct))) cfg.connectTimeout = Number(ct);
  return cfg;
}

// ---------------------------------------------------------------------------------------
// Jump specs
// ---------------------------------------------------------------------------------------

export interface JumpSpec {
  user?: string;
  host: string;
  port?: number;
}

/** `[user@]host[:port]`, `ssh://[user@]host[:port]`, `[v6]:port`. Returns an error string. */
export function parseJumpSpec(spec: string): JumpSpec | { error: string } {
  let s = spec.trim();
  if (s.startsWith('ssh://')) s = s.slice(6).replace(/\/$/, '');
  let user: string | undefined;
  const at = s.lastIndexOf('@');
  if (at >= 0) {
    user = s.slice(0, at);
    s = s.slice(at + 1);
  }
  let host = s;
  let port: number | undefined;
  if (s.startsWith('[')) {
    const close = s.indexOf(']');
    if (close < 0) return { error: `bad jump host ${JSON.stringify(spec)}: unbalanced [` };
    host = s.slice(1, close);
    const rest = s.slice(close + 1);
    if (rest) {
      if (!rest.startsWith(':')) return { error: `bad jump host ${JSON.stringify(spec)}` };
      port = Number(rest.slice(1));
    }
  } else if ((s.match(/:/g) ?? []).length === 1) {
    const i = s.indexOf(':');
    host = s.slice(0, i);
    port = Number(s.slice(i + 1));
  }
  if (!isSafeHost(host))
    return { error: `bad jump host ${JSON.stringify(spec)}: unsafe host name` };
  if (user !== undefined && !isSafeUser(user))
    return { error: `bad jump host ${JSON.stringify(spec)}: unsafe user name` };
  if (port !== undefined && !isSafePort(port))
    return { error: `bad jump host ${JSON.stringify(spec)}: bad port` };
  const out: JumpSpec = { host };
  if (user !== undefined) out.user = user;
  if (port !== undefined) out.port = port;
  return out;
}

// ---------------------------------------------------------------------------------------
// Fallback parser (no OpenSSH client)
// ---------------------------------------------------------------------------------------

const DEFAULT_IDENTITIES = [
  '~/.ssh/id_rsa',
  '~/.ssh/id_ecdsa',
  '~/.ssh/id_ecdsa_sk',
  '~/.ssh/id_ed25519',
  '~/.ssh/id_ed25519_sk',
  '~/.ssh/id_xmss',
  '~/.ssh/id_dsa',
];

/** Inline `Include` directives (ssh-config does not follow them). Depth-limited like ssh. */
export async function readConfigWithIncludes(
  file: string,
  baseDir: string,
  depth = 0,
): Promise<string> {
  if (depth > 16) return '';
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return '';
  }
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*include\s*[= ]\s*(.+)$/i.exec(line);
    if (!m) {
      out.push(line);
      continue;
    }
    for (const pat of m[1]!.trim().split(/\s+/)) {
      let p = pat.replace(/^"(.*)"$/, '$1');
      if (p.startsWith('~/')) p = homedir() + p.slice(1);
      else if (!isAbsolute(p)) p = join(baseDir, p);
      for (const f of await globFiles(p)) {
        out.push(await readConfigWithIncludes(f, baseDir, depth + 1));
      }
    }
  }
  return out.join('\n');
}

async function globFiles(pattern: string): Promise<string[]> {
  if (!/[*?]/.test(pattern)) return [pattern];
  const dir = dirname(pattern);
  const base = pattern.slice(dir.length + 1);
  const re = new RegExp(
    `^${base
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  );
  try {
    return (await readdir(dir))
      .filter((f) => re.test(f) && !f.startsWith('.'))
      .sort()
      .map((f) => join(dir, f));
  } catch {
    return [];
  }
}

/** Effective config from ssh_config text via the `ssh-config` package, as `ssh -G` would print it. */
export function computeFallback(
  configText: string,
  alias: string,
  cmdline: { user?: string; port?: number; identity?: string } = {},
): SshGOutput {
  const cfg = SSHConfig.parse(configText);
  const copts = { ignoreCase: true, matchExec: false };
  const computed = cmdline.user
    ? cfg.compute({ Host: alias, User: cmdline.user }, copts)
    : cfg.compute(alias, copts);
  const raw: SshGOutput = new Map();
  for (const [k, v] of Object.entries(computed)) {
    const key = k.toLowerCase();
    const vals = Array.isArray(v) ? v : [v];
    raw.set(key, SPACE_LISTS.has(key) ? vals.flatMap((x) => x.split(/\s+/)) : vals);
  }
  // command line first, then config, then defaults (first value wins, like ssh)
  if (cmdline.user) raw.set('user', [cmdline.user]);
  if (!raw.has('user')) raw.set('user', [userInfo().username]);
  if (cmdline.port) raw.set('port', [String(cmdline.port)]);
  if (!raw.has('port')) raw.set('port', ['22']);
  const hn = raw.get('hostname')?.[0];
  raw.set('hostname', [hn ? hn.replace(/%h/g, alias).replace(/%%/g, '%') : alias]);
  const ids = raw.get('identityfile') ?? [];
  if (cmdline.identity) ids.unshift(cmdline.identity);
  raw.set('identityfile', ids.length ? ids : [...DEFAULT_IDENTITIES]);
  if (!raw.has('userknownhostsfile'))
    raw.set('userknownhostsfile', ['~/.ssh/known_hosts', '~/.ssh/known_hosts2']);
  if (!raw.has('globalknownhostsfile'))
    raw.set('globalknownhostsfile', ['/etc/ssh/ssh_known_hosts', '/etc/ssh/ssh_known_hosts2']);
  return raw;
}

// ---------------------------------------------------------------------------------------
// Resolver (I/O + cache)
// ---------------------------------------------------------------------------------------

export interface ResolverOptions {
  /** `ssh -F <file>`; also the only file the fallback reads when set. */
  configFile?: string;
  /** 'auto' (default): `ssh -G` if an ssh binary runs, else fallback. */
  mode?: 'auto' | 'ssh-g' | 'fallback';
  /** ssh binary (default `ssh` on PATH). */
  sshBinary?: string;
  /** Per `ssh -G` call. */
  timeoutMs?: number;
}

export interface CmdlineOverrides {
  user?: string;
  port?: number;
  identity?: string;
}

interface SshGRequest {
  alias: string;
  cmd: CmdlineOverrides;
  resolve: (text: string) => void;
  reject: (e: unknown) => void;
}

/**
 * Hosts per `sh` child of a batched `ssh -G` (see SshResolver.runSshG): the hosts of one
 * tick are split over up to SSH_G_CHILDREN children (at least SSH_G_MIN_BATCH hosts each,
 * at most SSH_G_BATCH), which run side by side: 50 `ssh -G` one after another took 1–3 s
 * on a loaded 2-core machine, and every node's handshake waits for its own.
 */
const SSH_G_BATCH = 50;
const SSH_G_MIN_BATCH = 8;
const SSH_G_CHILDREN = 4;

/**
 * `sh -c SCRIPT sh SSH CONFIG [USER PORT IDENTITY HOST]…`: `ssh -G` per host (empty
 * USER/PORT/IDENTITY/CONFIG omitted), every value an argument (never part of the script).
 * Emits `K8OPS-SSHG <i> ok` + the output, or `K8OPS-SSHG <i> fail <status>` + the last
 * lines of stderr, then `K8OPS-SSHG <i> end`, per host in order.
 */
const SSH_G_SCRIPT = `S=$1; F=$2; shift 2; n=0
while [ "$#" -ge 4 ]; do
  u=$1; p=$2; i=$3; h=$4; shift 4
  if o=$("$S" -G \${F:+-F "$F"} \${u:+-l "$u"} \${p:+-p "$p"} \${i:+-i "$i"} -- "$h" 2>/dev/null); then
    printf 'K8OPS-SSHG %s ok\n%s\nK8OPS-SSHG %s end\n' "$n" "$o" "$n"
  else
    rc=$?
    e=$("$S" -G \${F:+-F "$F"} \${u:+-l "$u"} \${p:+-p "$p"} \${i:+-i "$i"} -- "$h" 2>&1 >/dev/null | tail -n 5)
    printf 'K8OPS-SSHG %s fail %s\n%s\nK8OPS-SSHG %s end\n' "$n" "$rc" "$e" "$n"
  fi
  n=$((n + 1))
done`;

/** The argv of one `ssh -G` (for messages). */
function sshGArgs(configFile: string | undefined, alias: string, cmd: CmdlineOverrides): string[] {
  const args = ['-G'];
  if (configFile) args.push('-F', configFile);
  if (cmd.user) args.push('-l', cmd.user);
  if (cmd.port) args.push('-p', String(cmd.port));
  if (cmd.identity) args.push('-i', cmd.identity);
  args.push('--', alias);
  return args;
}

/** Split a batched `ssh -G` output into one answer per host (undefined: none). Pure. */
export function parseSshGBatch(
  out: string,
  count: number,
): Array<{ ok: boolean; code: number; text: string } | undefined> {
  const answers: Array<{ ok: boolean; code: number; text: string } | undefined> = new Array(
    count,
  ).fill(undefined);
  const lines = out.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const m = /^K8OPS-SSHG (\d+) (ok|fail (\d+))$/.exec(lines[i]!);
    if (!m) continue;
    const idx = Number(m[1]);
    const end = `K8OPS-SSHG ${idx} end`;
    const body: string[] = [];
    let j = i + 1;
    while (j < lines.length && lines[j] !== end) body.push(lines[j++]!);
    if (j >= lines.length || idx >= count) break; // cut short: the rest has no answer
    answers[idx] = {
      ok: m[2] === 'ok',
      code: m[3] ? Number(m[3]) : 0,
      text: `${body.join('\n').replaceAll('\r', '')}\n`,
    };
    i = j;
  }
  return answers;
}

/**
 * The batched `ssh -G` output, parsed as it arrives: push() returns the answers completed
 * by each chunk (index, answer), each once. Same rules as parseSshGBatch.
 */
export class SshGStream {
  private buf = '';
  private readonly seen = new Set<number>();

  push(chunk: string): Array<[number, { ok: boolean; code: number; text: string }]> {
    this.buf += chunk;
    const done: Array<[number, { ok: boolean; code: number; text: string }]> = [];
    for (;;) {
      const m = /^K8OPS-SSHG (\d+) (ok|fail (\d+))$/m.exec(this.buf);
      if (!m) {
        // keep only a possibly incomplete last line
        const nl = this.buf.lastIndexOf('\n');
        if (nl >= 0) this.buf = this.buf.slice(nl + 1);
        break;
      }
      const idx = Number(m[1]);
      const from = m.index + m[0].length + 1;
      const endLine = `K8OPS-SSHG ${idx} end`;
      const endAt = this.buf.indexOf(`\n${endLine}\n`, from - 1);
      const emptyEnd = this.buf.startsWith(`${endLine}\n`, from);
      if (endAt < 0 && !emptyEnd) {
        this.buf = this.buf.slice(m.index);
        break;
      }
      const body = emptyEnd ? '' : this.buf.slice(from, endAt);
      const next = emptyEnd ? from + endLine.length + 1 : endAt + endLine.length + 2;
      this.buf = this.buf.slice(next);
      if (this.seen.has(idx)) continue;
      this.seen.add(idx);
      done.push([
        idx,
        {
          ok: m[2] === 'ok',
          code: m[3] ? Number(m[3]) : 0,
          text: `${body.replaceAll('\r', '')}\n`,
        },
      ]);
    }
    return done;
  }
}

export class SshResolver {
  private readonly cache = new Map<string, Promise<HostConfig>>();
  private sshWorks?: Promise<boolean>;
  constructor(readonly opts: ResolverOptions = {}) {}

  /** Resolve one host as `ssh [-l user] [-p port] [-i identity] host` would see it. */
  resolveHost(alias: string, cmd: CmdlineOverrides = {}): Promise<HostConfig> {
    const key = JSON.stringify([alias, cmd.user, cmd.port, cmd.identity]);
    let p = this.cache.get(key);
    if (!p) {
      p = this.resolveUncached(alias, cmd);
      this.cache.set(key, p);
      p.catch(() => this.cache.delete(key));
    }
    return p;
  }

  private async shouldUseSshG(): Promise<boolean> {
    const mode = this.opts.mode ?? 'auto';
    if (mode !== 'auto') return mode === 'ssh-g';
    this.sshWorks ??= new Promise((resolve) => {
      execFile(this.opts.sshBinary ?? 'ssh', ['-V'], { timeout: 5000 }, (err) => resolve(!err));
    });
    return this.sshWorks;
  }

  private async resolveUncached(alias: string, cmd: CmdlineOverrides): Promise<HostConfig> {
    if (!isSafeHost(alias)) {
      throw new RemoteExecError({
        kind: 'config',
        host: alias,
        reason: 'refused host name (must be a host name, address or ssh alias)',
      });
    }
    if (cmd.user !== undefined && !isSafeUser(cmd.user))
      throw new RemoteExecError({
        kind: 'config',
        host: alias,
        reason: `refused user ${JSON.stringify(cmd.user)}`,
      });
    if (cmd.port !== undefined && !isSafePort(cmd.port))
      throw new RemoteExecError({ kind: 'config', host: alias, reason: `bad port ${cmd.port}` });
    if (await this.shouldUseSshG()) {
      const text = await this.runSshG(alias, cmd);
      return hostConfigFromSshG(parseSshG(text), alias, 'ssh -G');
    }
    const text = await this.fallbackConfigText();
    return hostConfigFromSshG(computeFallback(text, alias, cmd), alias, 'ssh-config');
  }

  private pendingSshG: SshGRequest[] = [];

  /**
   * `ssh -G` for one host, batched: the hosts asked for in the same tick (a session resolves
   * every node's route at once) are resolved by one `sh` child running `ssh -G` for each
   * (≤ SSH_G_BATCH per child), instead of one child per host. Spawning from a Node process
   * of 100+ MB costs tens of ms of its CPU each (issue 13: 1.4 s of `certs --json`'s CPU at
   * 50 nodes); the `ssh -G` runs themselves are the same. A lone host runs as before.
   */
  private runSshG(alias: string, cmd: CmdlineOverrides): Promise<string> {
    return new Promise((resolve, reject) => {
      this.pendingSshG.push({ alias, cmd, resolve, reject });
      if (this.pendingSshG.length === 1) setImmediate(() => this.flushSshG());
    });
  }

  private flushSshG(): void {
    const all = this.pendingSshG.splice(0);
    const per = Math.min(
      SSH_G_BATCH,
      Math.max(SSH_G_MIN_BATCH, Math.ceil(all.length / SSH_G_CHILDREN)),
    );
    for (let i = 0; i < all.length; i += per) {
      const batch = all.slice(i, i + per);
      if (batch.length === 1) {
        const [one] = batch as [SshGRequest];
        this.runOneSshG(one.alias, one.cmd).then(one.resolve, one.reject);
      } else this.runSshGBatch(batch);
    }
  }

  private runSshGBatch(batch: SshGRequest[]): void {
    trace('resolve:batch', { hosts: batch.length });
    const ssh = this.opts.sshBinary ?? 'ssh';
    const args = ['-c', SSH_G_SCRIPT, 'sh', ssh, this.opts.configFile ?? ''];
    for (const r of batch)
      args.push(
        r.cmd.user ?? '',
        r.cmd.port ? String(r.cmd.port) : '',
        r.cmd.identity ?? '',
        r.alias,
      );
    const reject = (r: SshGRequest, reason: string, stderr: string, cause?: unknown) =>
      r.reject(
        new RemoteExecError({
          kind: 'config',
          host: r.alias,
          reason,
          command: `ssh ${sshGArgs(this.opts.configFile, r.alias, r.cmd).join(' ')}`,
          stderr,
          ...(cause !== undefined ? { cause } : {}),
        }),
      );
    // Each host's answer is taken as soon as its end line arrives (streamed): the first
    // nodes start their handshakes while `ssh -G` still runs for the others (issue 13: the
    // batch of 200 took ~1 s before any connection could start).
    const answered = new Array<boolean>(batch.length).fill(false);
    const settleOne = (i: number, a: { ok: boolean; code: number; text: string }) => {
      const r = batch[i];
      if (!r || answered[i]) return;
      answered[i] = true;
      if (a.ok) r.resolve(a.text);
      else reject(r, `ssh -G failed (exit ${a.code})`, a.text);
    };
    const stream = new SshGStream();
    let stderr = '';
    let bytes = 0;
    const max = batch.length << 20;
    let failed: Error | undefined;
    const child = spawn('sh', args, { env: process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const timer = setTimeout(
      () => {
        failed ??= Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' });
        child.kill('SIGKILL');
      },
      (this.opts.timeoutMs ?? 10_000) + 200 * batch.length,
    );
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      bytes += chunk.length;
      if (bytes > max) {
        failed ??= new Error('output too large');
        child.kill('SIGKILL');
        return;
      }
      for (const [i, a] of stream.push(chunk)) settleOne(i, a);
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      if (stderr.length < 65_536) stderr += chunk;
    });
    child.on('error', (e) => {
      failed ??= e;
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      trace('resolve:batch-end', { hosts: batch.length });
      const err = failed ?? (code === 0 ? undefined : new Error(`exit ${code ?? 'by a signal'}`));
      batch.forEach((r, i) => {
        if (answered[i]) return;
        answered[i] = true;
        if (err)
          reject(
            r,
            `ssh -G failed (${(err as NodeJS.ErrnoException).code ?? err.message})`,
            stderr,
            err,
          );
        else reject(r, 'ssh -G failed (no answer)', '');
      });
    });
  }

  private runOneSshG(alias: string, cmd: CmdlineOverrides): Promise<string> {
    const args = ['-G'];
    if (this.opts.configFile) args.push('-F', this.opts.configFile);
    if (cmd.user) args.push('-l', cmd.user);
    if (cmd.port) args.push('-p', String(cmd.port));
    if (cmd.identity) args.push('-i', cmd.identity);
    args.push('--', alias);
    return new Promise((resolve, reject) => {
      execFile(
        this.opts.sshBinary ?? 'ssh',
        args,
        { timeout: this.opts.timeoutMs ?? 10_000, maxBuffer: 1 << 20, env: process.env },
        (err, stdout, stderr) => {
          if (err) {
            reject(
              new RemoteExecError({
                kind: 'config',
                host: alias,
                reason: `ssh -G failed (${(err as NodeJS.ErrnoException).code ?? err.message})`,
                command: `ssh ${args.join(' ')}`,
                stderr: String(stderr),
                cause: err,
              }),
            );
            return;
          }
          resolve(String(stdout));
        },
      );
    });
  }

  private fallbackText?: Promise<string>;
  private fallbackConfigText(): Promise<string> {
    this.fallbackText ??= (async () => {
      if (this.opts.configFile) {
        const f = this.opts.configFile;
        return readConfigWithIncludes(f, join(homedir(), '.ssh'));
      }
      const user = await readConfigWithIncludes(
        join(homedir(), '.ssh', 'config'),
        join(homedir(), '.ssh'),
      );
      const sys = await readConfigWithIncludes('/etc/ssh/ssh_config', '/etc/ssh');
      return `${user}\n${sys}`;
    })();
    return this.fallbackText;
  }

  /**
   * The chain of hops (outermost first) that reaches `alias`, ssh(1)-style.
   * `forcedJump` replaces the host's own ProxyJump (like `-J` on the command line).
   */
  async resolveChain(
    alias: string,
    cmd: CmdlineOverrides,
    forcedJump: string[] | undefined,
    depth = 0,
  ): Promise<{ dest: HostConfig; hops: HostConfig[]; hopSpecs: string[] }> {
    if (depth > 10) {
      throw new RemoteExecError({
        kind: 'config',
        host: alias,
        reason: 'ProxyJump chain longer than 10 hops (loop?)',
      });
    }
    const dest = await this.resolveHost(alias, cmd);
    if (dest.proxyCommand && forcedJump === undefined) {
      throw new RemoteExecError({
        kind: 'config',
        host: alias,
        reason: `ProxyCommand is not supported (${dest.proxyCommand}); use ProxyJump`,
      });
    }
    const jumps = forcedJump ?? dest.proxyJump;
    if (jumps.length === 0) return { dest, hops: [], hopSpecs: [] };
    const lastSpec = jumps[jumps.length - 1]!;
    const parsed = parseJumpSpec(lastSpec);
    if ('error' in parsed)
      throw new RemoteExecError({ kind: 'config', host: alias, reason: parsed.error });
    const hopCmd: CmdlineOverrides = {};
    if (parsed.user) hopCmd.user = parsed.user;
    if (parsed.port) hopCmd.port = parsed.port;
    const inner = await this.resolveChain(
      parsed.host,
      hopCmd,
      jumps.length > 1 ? jumps.slice(0, -1) : undefined,
      depth + 1,
    );
    return {
      dest,
      hops: [...inner.hops, inner.dest],
      hopSpecs: [...inner.hopSpecs, lastSpec],
    };
  }
}

// ---------------------------------------------------------------------------------------
// Routes (what the pool connects)
// ---------------------------------------------------------------------------------------

/** One hop as the pool connects it. */
export interface RouteHop extends HostConfig {
  /** Unique connection key: the chain of `user@hostname:port` from the outside in. */
  key: string;
  /** Connect timeout for this hop, ms. */
  connectTimeoutMs: number;
}

export interface Route {
  /** The destination, as asked for. */
  name: string;
  /** Outermost first; the last element is the destination. */
  hops: RouteHop[];
  /** `direct` or `via bastion` / `via a,b` (the hop names as configured). */
  description: string;
}

/** What the caller can override for a destination (the inventory's ssh settings). */
export interface RouteRequest {
  host: string;
  user?: string;
  port?: number;
  identity?: string;
  /** Replaces ProxyJump (like `-J`); [] forces direct; undefined = ssh config. */
  jump?: string[];
  /** Replaces UserKnownHostsFile for every hop of this route. */
  knownHosts?: string;
  /** Used when the config sets no ConnectTimeout. */
  defaultConnectTimeoutMs?: number;
  /** Overrides ConnectTimeout. */
  connectTimeoutMs?: number;
}

export const DEFAULT_CONNECT_TIMEOUT_MS = 5000;

function hopKey(prev: string | undefined, h: HostConfig): string {
  const here = `${h.user}@${h.hostname.includes(':') ? `[${h.hostname}]` : h.hostname}:${h.port}`;
  return prev ? `${prev} > ${here}` : here;
}

export async function resolveRoute(resolver: SshResolver, req: RouteRequest): Promise<Route> {
  const cmd: CmdlineOverrides = {};
  if (req.user) cmd.user = req.user;
  if (req.port) cmd.port = req.port;
  if (req.identity) cmd.identity = req.identity;
  const chain = await resolver.resolveChain(req.host, cmd, req.jump);
  if (req.identity) {
    // `ssh -i` is only honoured by ssh -G when the file exists; be explicit.
    const ids = chain.dest.identityFiles.filter((f) => f !== req.identity);
    chain.dest = { ...chain.dest, identityFiles: [req.identity, ...ids] };
  }
  const all = [...chain.hops, chain.dest];
  const hops: RouteHop[] = [];
  let prev: string | undefined;
  for (let i = 0; i < all.length; i++) {
    const h = all[i]!;
    const isDest = i === all.length - 1;
    const key = hopKey(prev, h);
    prev = key;
    const fromCfg = h.connectTimeout !== undefined ? h.connectTimeout * 1000 : undefined;
    const connectTimeoutMs =
      (isDest ? req.connectTimeoutMs : undefined) ??
      fromCfg ??
      req.defaultConnectTimeoutMs ??
      DEFAULT_CONNECT_TIMEOUT_MS;
    const hop: RouteHop = { ...h, key, connectTimeoutMs };
    if (req.knownHosts) hop.userKnownHostsFiles = [req.knownHosts];
    hops.push(hop);
  }
  const description = chain.hopSpecs.length ? `via ${chain.hopSpecs.join(',')}` : 'direct';
  return { name: req.host, hops, description };
}

/** The RouteRequest for an inventory node: node overrides, then inventory defaults. */
export function routeRequestForNode(inv: Pick<Inventory, 'ssh'>, node: NodeSpec): RouteRequest {
  const d = inv.ssh;
  const o = node.ssh ?? {};
  const req: RouteRequest = { host: node.host };
  const user = o.user ?? d.user;
  if (user !== undefined) req.user = user;
  const port = o.port ?? d.port;
  if (port !== undefined) req.port = port;
  const identity = o.identity ?? d.identity;
  if (identity !== undefined) req.identity = identity;
  if (o.jump !== undefined) req.jump = [...o.jump];
  else if (d.jump.length > 0) req.jump = [...d.jump];
  const kh = o.knownHosts ?? d.knownHosts;
  if (kh !== undefined) req.knownHosts = kh;
  if (o.connectTimeoutMs !== undefined) req.connectTimeoutMs = o.connectTimeoutMs;
  req.defaultConnectTimeoutMs = d.connectTimeoutMs;
  return req;
}

/** True if a file exists (sync; used for identity files before reading). */
export function fileExists(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** Read a small local file synchronously or undefined. */
export function readSmallFile(path: string): Buffer | undefined {
  try {
    return readFileSync(path);
  } catch {
    return undefined;
  }
}
