/**
 * A lab of real OpenSSH sshd processes in network namespaces, for integration tests.
 *
 *   host ns ──veth── ns B (bastion)  ──veth── ns N (node1, node2, hop2; dead address)
 *                                               └──veth── ns D (node3: only via hop2)
 *
 * Addresses come from 10.231.0.0/16, one /21 per lab "slot" (so test files running in
 * parallel never collide); the host namespace gets an `unreachable` route for the slot's
 * /21, so only the bastion's /29 is reachable from the host and a mistake cannot leave the
 * machine (the host↔bastion link is a /29). Nodes are reachable only through the bastion (namespaces do not forward).
 * `dead` is an address behind the bastion whose packets go to a MAC nobody owns: the
 * bastion's connect() hangs (no RST, no ICMP), like a firewall that drops.
 *
 * Everything is torn down by `teardown()` (sshd and ssh-agent killed by pid, namespaces,
 * veths and routes deleted, temp dir removed). All waits are bounded.
 */
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';

export const SSHD = '/usr/sbin/sshd';

/** Can this machine run the lab? (root, sshd, ssh-keygen, ip netns). */
export function labSupport(): { ok: true } | { ok: false; reason: string } {
  if (process.platform !== 'linux') return { ok: false, reason: 'not Linux' };
  if (process.getuid?.() !== 0)
    return { ok: false, reason: 'not root (network namespaces + sshd need root)' };
  if (!existsSync(SSHD))
    return { ok: false, reason: `${SSHD} missing (apt-get install openssh-server)` };
  for (const bin of ['ssh', 'ssh-keygen', 'ssh-agent', 'ssh-add', 'ip', 'unshare', 'mount']) {
    try {
      execFileSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' });
    } catch {
      return { ok: false, reason: `${bin} not installed` };
    }
  }
  return { ok: true };
}

export interface LabHost {
  name: string;
  ns: string;
  address: string;
  port: number;
  dir: string;
  /** `ssh-ed25519 AAAA…` */
  publicKey: string;
  /** base64 blob */
  keyBase64: string;
  proc?: ChildProcess;
  pid?: number;
}

export interface SshLab {
  dir: string;
  slot: number;
  hosts: Record<'bastion' | 'node1' | 'node2' | 'hop2' | 'node3', LabHost>;
  /** Behind the bastion: the bastion's connect() to it hangs. */
  deadAddress: string;
  /** On the host's own link to the bastion namespace: our connect() hangs. */
  deadDirectAddress: string;
  /** Unencrypted ed25519 client key (authorized everywhere). */
  identityFile: string;
  /** Root's home as the lab's sshd sessions see it (an empty directory). */
  home: string;
  /** Passphrase-protected key (authorized everywhere). */
  encryptedIdentityFile: string;
  agentSocket: string;
  /** known_hosts with every lab host (node2's entry hashed with ssh-keygen -H). */
  knownHostsFile: string;
  /** ssh_config (identity = identityFile). */
  configFile: string;
  /** Write another ssh_config variant; returns its path. */
  writeConfig(
    name: string,
    opts: { identityFile?: string; knownHosts?: string; extra?: string },
  ): string;
  /** known_hosts line for a lab host (plain). */
  knownHostsLine(name: keyof SshLab['hosts']): string;
  /** SIGKILL the host's sshd and every session process under it. */
  kill(name: keyof SshLab['hosts']): Promise<void>;
  /** Start (or restart) the host's sshd; resolves when it accepts TCP connections. */
  start(name: keyof SshLab['hosts']): Promise<void>;
  /** SIGSTOP / SIGCONT the host's sshd and sessions (a frozen host: keepalive must notice). */
  freeze(name: keyof SshLab['hosts']): void;
  thaw(name: keyof SshLab['hosts']): void;
  teardown(): Promise<void>;
}

function run(cmd: string, args: string[], timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: timeoutMs }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')}: ${err.message}\n${stderr}`));
      else resolve(String(stdout));
    });
  });
}

function runQuiet(cmd: string, args: string[]): Promise<void> {
  return run(cmd, args).then(
    () => undefined,
    () => undefined,
  );
}

const SLOT_DIR = '/run/k8ops-test-sshlab';

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function nsNames(slot: number) {
  return { b: `k8ops-s${slot}-b`, n: `k8ops-s${slot}-n`, d: `k8ops-s${slot}-d` };
}

function vethNames(slot: number) {
  return {
    hostB: `k8s${slot}hb`,
    bHost: `k8s${slot}bh`,
    bN: `k8s${slot}bn`,
    nB: `k8s${slot}nb`,
    nD: `k8s${slot}nd`,
    dN: `k8s${slot}dn`,
  };
}

async function cleanSlot(slot: number): Promise<void> {
  const ns = nsNames(slot);
  for (const n of [ns.b, ns.n, ns.d]) {
    // Processes left in a namespace from a crashed earlier run of this lab.
    const pids = await run('ip', ['netns', 'pids', n]).catch(() => '');
    for (const p of pids.split(/\s+/).filter(Boolean)) {
      try {
        process.kill(Number(p), 'SIGKILL');
      } catch {
        // gone
      }
    }
    await runQuiet('ip', ['netns', 'del', n]);
  }
  await runQuiet('ip', ['link', 'del', vethNames(slot).hostB]);
  await runQuiet('ip', ['route', 'del', 'unreachable', `10.231.${slot * 8}.0/21`]);
}

/** Claim a free slot (0..31) with an atomic mkdir; reclaim slots of dead processes. */
async function claimSlot(): Promise<number> {
  mkdirSync(SLOT_DIR, { recursive: true });
  for (let slot = 0; slot < 32; slot++) {
    const d = join(SLOT_DIR, String(slot));
    try {
      mkdirSync(d);
    } catch {
      let owner = 0;
      try {
        owner = Number(readFileSync(join(d, 'pid'), 'utf8'));
      } catch {
        // being created right now, or broken: leave it unless clearly stale
        continue;
      }
      if (owner && pidAlive(owner)) continue;
      rmSync(d, { recursive: true, force: true });
      try {
        mkdirSync(d);
      } catch {
        continue;
      }
    }
    writeFileSync(join(d, 'pid'), String(process.pid));
    await cleanSlot(slot);
    return slot;
  }
  throw new Error('no free ssh lab slot');
}

async function keygen(
  path: string,
  opts: { comment?: string; passphrase?: string } = {},
): Promise<void> {
  await run('ssh-keygen', [
    '-q',
    '-t',
    'ed25519',
    '-N',
    opts.passphrase ?? '',
    '-C',
    opts.comment ?? 'k8ops-test',
    '-f',
    path,
  ]);
}

async function waitFor(
  what: string,
  fn: () => Promise<boolean> | boolean,
  timeoutMs = 10_000,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await fn()) return;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Descendants of pid (via /proc ppid), deepest last. */
function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(e));
      children.set(ppid, list);
    } catch {
      // raced with exit
    }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const c of children.get(p) ?? []) {
      out.push(c);
      walk(c);
    }
  };
  walk(pid);
  return out;
}

/** TCP connect from inside a namespace (bash /dev/tcp), bounded. */
async function tcpOpen(ns: string, addr: string, port: number): Promise<boolean> {
  try {
    await run(
      'ip',
      ['netns', 'exec', ns, 'timeout', '2', 'bash', '-c', `exec 3<>/dev/tcp/${addr}/${port}`],
      4000,
    );
    return true;
  } catch {
    return false;
  }
}

export async function startLab(): Promise<SshLab> {
  const slot = await claimSlot();
  const dir = mkdtempSync(join(tmpdir(), 'k8ops-sshlab-'));
  const ns = nsNames(slot);
  const v = vethNames(slot);
  const o = slot * 8;
  const net = {
    hostB: `10.231.${o}.1`,
    bastion: `10.231.${o}.2`,
    bN: `10.231.${o + 1}.1`,
    node1: `10.231.${o + 1}.11`,
    node2: `10.231.${o + 1}.12`,
    hop2: `10.231.${o + 1}.20`,
    dead: `10.231.${o + 1}.99`,
    deadDirect: `10.231.${o}.6`,
    nD: `10.231.${o + 2}.1`,
    node3: `10.231.${o + 2}.31`,
  };
  const cleanup: Array<() => Promise<void>> = [];
  const teardownAll = async () => {
    for (const f of cleanup.reverse()) await f().catch(() => undefined);
    cleanup.length = 0;
  };
  try {
    mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
    cleanup.push(async () => rmSync(dir, { recursive: true, force: true }));
    cleanup.push(async () => {
      await cleanSlot(slot);
      rmSync(join(SLOT_DIR, String(slot)), { recursive: true, force: true });
    });
    // --- network ---
    const ip = (...a: string[]) => run('ip', a);
    for (const n of [ns.b, ns.n, ns.d]) {
      await ip('netns', 'add', n);
      await ip('-n', n, 'link', 'set', 'lo', 'up');
    }
    await ip('route', 'add', 'unreachable', `10.231.${o}.0/21`);
    await ip('link', 'add', v.hostB, 'type', 'veth', 'peer', 'name', v.bHost, 'netns', ns.b);
    await ip('addr', 'add', `${net.hostB}/29`, 'dev', v.hostB);
    await ip('link', 'set', v.hostB, 'up');
    await ip('-n', ns.b, 'addr', 'add', `${net.bastion}/29`, 'dev', v.bHost);
    await ip('-n', ns.b, 'link', 'set', v.bHost, 'up');
    await ip('-n', ns.b, 'link', 'add', v.bN, 'type', 'veth', 'peer', 'name', v.nB, 'netns', ns.n);
    await ip('-n', ns.b, 'addr', 'add', `${net.bN}/24`, 'dev', v.bN);
    await ip('-n', ns.b, 'link', 'set', v.bN, 'up');
    for (const a of [net.node1, net.node2, net.hop2])
      await ip('-n', ns.n, 'addr', 'add', `${a}/24`, 'dev', v.nB);
    await ip('-n', ns.n, 'link', 'set', v.nB, 'up');
    await ip('-n', ns.n, 'link', 'add', v.nD, 'type', 'veth', 'peer', 'name', v.dN, 'netns', ns.d);
    await ip('-n', ns.n, 'addr', 'add', `${net.nD}/24`, 'dev', v.nD);
    await ip('-n', ns.n, 'link', 'set', v.nD, 'up');
    await ip('-n', ns.d, 'addr', 'add', `${net.node3}/24`, 'dev', v.dN);
    await ip('-n', ns.d, 'link', 'set', v.dN, 'up');
    // The dead address: a neighbour entry to a MAC nobody has; frames vanish silently.
    await ip(
      '-n',
      ns.b,
      'neigh',
      'replace',
      net.dead,
      'lladdr',
      '02:00:5e:00:53:99',
      'dev',
      v.bN,
      'nud',
      'permanent',
    );
    // …and one directly on the host's link (no bastion), same trick.
    await ip(
      'neigh',
      'replace',
      net.deadDirect,
      'lladdr',
      '02:00:5e:00:53:98',
      'dev',
      v.hostB,
      'nud',
      'permanent',
    );

    // --- keys ---
    const home = join(dir, 'home');
    mkdirSync(home, { mode: 0o700 });
    const identityFile = join(dir, 'id_ed25519');
    const encryptedIdentityFile = join(dir, 'id_ed25519_enc');
    await keygen(identityFile, { comment: 'k8ops-test-client' });
    await keygen(encryptedIdentityFile, { comment: 'k8ops-test-enc', passphrase: 'correct horse' });
    writeFileSync(
      join(dir, 'authorized_keys'),
      `${readFileSync(`${identityFile}.pub`, 'utf8')}${readFileSync(`${encryptedIdentityFile}.pub`, 'utf8')}`,
      { mode: 0o600 },
    );
    const specs: Array<[keyof SshLab['hosts'], string, string]> = [
      ['bastion', ns.b, net.bastion],
      ['node1', ns.n, net.node1],
      ['node2', ns.n, net.node2],
      ['hop2', ns.n, net.hop2],
      ['node3', ns.d, net.node3],
    ];
    const hosts = {} as SshLab['hosts'];
    for (const [name, hns, address] of specs) {
      const hdir = join(dir, name);
      mkdirSync(hdir);
      const key = join(hdir, 'ssh_host_ed25519_key');
      await keygen(key, { comment: `${name}-host` });
      const publicKey = readFileSync(`${key}.pub`, 'utf8').trim().split(' ').slice(0, 2).join(' ');
      writeFileSync(
        join(hdir, 'sshd_config'),
        [
          `ListenAddress ${address}:22`,
          `HostKey ${key}`,
          `PidFile ${join(hdir, 'sshd.pid')}`,
          `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
          'StrictModes no',
          'UsePAM no',
          'PasswordAuthentication no',
          'KbdInteractiveAuthentication no',
          'PubkeyAuthentication yes',
          'PermitRootLogin prohibit-password',
          'AllowTcpForwarding yes',
          'AllowStreamLocalForwarding yes',
          'MaxStartups 200',
          'MaxSessions 10',
          'PrintMotd no',
          'UseDNS no',
          'LogLevel VERBOSE',
          'Subsystem sftp internal-sftp',
          '',
        ].join('\n'),
      );
      hosts[name] = {
        name,
        ns: hns,
        address,
        port: 22,
        dir: hdir,
        publicKey,
        keyBase64: publicKey.split(' ')[1]!,
      };
    }

    const lab: SshLab = {
      dir,
      slot,
      hosts,
      deadAddress: net.dead,
      deadDirectAddress: net.deadDirect,
      identityFile,
      home,
      encryptedIdentityFile,
      agentSocket: join(dir, 'agent.sock'),
      knownHostsFile: join(dir, 'known_hosts'),
      configFile: join(dir, 'ssh_config'),
      knownHostsLine: (name) => `${hosts[name].address} ${hosts[name].publicKey}`,
      writeConfig(name, c) {
        const path = join(dir, name);
        const id = c.identityFile ?? identityFile;
        const kh = c.knownHosts ?? join(dir, 'known_hosts');
        writeFileSync(
          path,
          [
            'Host bastion',
            `  HostName ${net.bastion}`,
            'Host node1',
            `  HostName ${net.node1}`,
            '  ProxyJump bastion',
            'Host node2',
            `  HostName ${net.node2}`,
            '  ProxyJump bastion',
            'Host hop2',
            `  HostName ${net.hop2}`,
            '  ProxyJump bastion',
            'Host node3',
            `  HostName ${net.node3}`,
            '  ProxyJump bastion,hop2',
            'Host dead',
            `  HostName ${net.dead}`,
            '  ProxyJump bastion',
            '  ConnectTimeout 1',
            c.extra ?? '',
            'Host *',
            '  User root',
            `  IdentityFile ${id}`,
            `  UserKnownHostsFile ${kh}`,
            '  GlobalKnownHostsFile /dev/null',
            '  StrictHostKeyChecking yes',
            '  ServerAliveInterval 1',
            '  ServerAliveCountMax 2',
            '  ConnectTimeout 4',
            '  BatchMode yes',
            '',
          ].join('\n'),
        );
        return path;
      },
      async kill(name) {
        const h = hosts[name];
        if (!h.pid) return;
        const pids = [h.pid, ...descendants(h.pid)];
        for (const p of pids) {
          try {
            process.kill(p, 'SIGKILL');
          } catch {
            // gone
          }
        }
        const proc = h.proc;
        await waitFor(
          `${name} sshd exit`,
          () => !proc || proc.exitCode !== null || proc.signalCode !== null,
        );
        await waitFor(`${name} sessions exit`, () => pids.every((p) => !pidAlive(p)));
        delete h.pid;
        delete h.proc;
      },
      async start(name) {
        const h = hosts[name];
        if (h.pid) return;
        // sshd runs in the node's network namespace and in a private mount namespace where
        // root's home is an empty lab directory: sessions do not depend on (or run) the
        // machine's dotfiles (~/.bashrc hooks such as pyenv slow every session down).
        const proc = spawn(
          'ip',
          [
            'netns',
            'exec',
            h.ns,
            'unshare',
            '-m',
            '--propagation',
            'private',
            'sh',
            '-c',
            'mount --bind "$1" "$2" && exec "$3" -D -f "$4" -E "$5"',
            'sh',
            home,
            userInfo().homedir,
            SSHD,
            join(h.dir, 'sshd_config'),
            join(h.dir, 'sshd.log'),
          ],
          { stdio: 'ignore' },
        );
        h.proc = proc;
        if (proc.pid) h.pid = proc.pid; // ip, unshare and sh all exec: the pid is sshd's
        await waitFor(`${name} sshd listening on ${h.address}`, async () => {
          if (proc.exitCode !== null)
            throw new Error(`${name} sshd exited: see ${join(h.dir, 'sshd.log')}`);
          return tcpOpen(h.ns, h.address, h.port);
        });
      },
      freeze(name) {
        const h = hosts[name];
        if (!h.pid) return;
        for (const p of [h.pid, ...descendants(h.pid)]) process.kill(p, 'SIGSTOP');
      },
      thaw(name) {
        const h = hosts[name];
        if (!h.pid) return;
        for (const p of [h.pid, ...descendants(h.pid)]) {
          try {
            process.kill(p, 'SIGCONT');
          } catch {
            // gone
          }
        }
      },
      teardown: teardownAll,
    };
    cleanup.push(async () => {
      for (const name of Object.keys(hosts) as Array<keyof SshLab['hosts']>) {
        lab.thaw(name);
        await lab.kill(name).catch(() => undefined);
      }
    });

    // --- agent ---
    const agent = spawn('ssh-agent', ['-D', '-a', lab.agentSocket], { stdio: 'ignore' });
    cleanup.push(async () => {
      if (agent.exitCode === null) agent.kill('SIGKILL');
    });
    await waitFor('ssh-agent socket', () => existsSync(lab.agentSocket));
    const askpass = join(dir, 'askpass');
    writeFileSync(askpass, "#!/bin/sh\necho 'correct horse'\n", { mode: 0o700 });
    await run('env', [
      `SSH_AUTH_SOCK=${lab.agentSocket}`,
      `SSH_ASKPASS=${askpass}`,
      'SSH_ASKPASS_REQUIRE=force',
      'DISPLAY=:0',
      'ssh-add',
      '-q',
      encryptedIdentityFile,
    ]);

    // --- known_hosts (node2 hashed by the real ssh-keygen -H) ---
    const plain = (['bastion', 'node1', 'node2', 'hop2', 'node3'] as const).map((n) =>
      lab.knownHostsLine(n),
    );
    writeFileSync(join(dir, 'kh_node2'), `${lab.knownHostsLine('node2')}\n`);
    await run('ssh-keygen', ['-H', '-f', join(dir, 'kh_node2')]);
    const hashedNode2 = readFileSync(join(dir, 'kh_node2'), 'utf8').trim();
    writeFileSync(
      lab.knownHostsFile,
      `# k8ops test lab\n${plain.filter((l) => !l.startsWith(`${net.node2} `)).join('\n')}\n${hashedNode2}\n`,
      { mode: 0o600 },
    );
    lab.writeConfig('ssh_config', {});

    // --- start sshd ---
    await Promise.all(
      (Object.keys(hosts) as Array<keyof SshLab['hosts']>).map((n) => lab.start(n)),
    );
    return lab;
  } catch (e) {
    await teardownAll();
    throw e;
  }
}
