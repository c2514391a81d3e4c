/**
 * Files: what could not be read (no status, unparseable certificate files, status errors),
 * what the plan lists but the node lacks, what the PKI directory holds that the layout does
 * not list (a warning for a named node; info for an anonymous scan, `--path` without
 * `--node`, which may be a PKI made by other tools), the previous pair `install` keeps for
 * a rollback, and a certificate file that changed between the status and the read.
 */
import { posix } from 'node:path';
import type { Layout } from '../layout.js';
import type { AddFinding, CheckGroup, NodeView } from './context.js';
import { base, list } from './format.js';

const PREVIOUS = /^(.*?)(?:[.-](?:prev|previous|old|bak)(?:\.pem)?|~)$/;

/** A planned key file: missing, or unreadable for the status. */
function keyFile(n: NodeView, keyPath: string, fp: string | undefined, add: AddFinding): void {
  if (!n.haveStatus) return;
  const k = n.statusFiles.get(keyPath);
  if (!k?.exists) {
    add('missing-file', n.node, keyPath, `key ${base(keyPath)} is missing`, fp);
    return;
  }
  if (k.error) add('status-error', n.node, keyPath, `${base(keyPath)}: ${k.error}`, fp);
}

function planned(n: NodeView, layout: Layout, add: AddFinding): void {
  const plan = n.plan;
  if (!plan) return;
  const listed = new Set<string>();
  for (const { pc, file, leaf } of n.planned) {
    listed.add(pc.certPath);
    listed.add(pc.keyPath);
    const fp = leaf?.fingerprint;
    // The previous pair install.sh keeps (<cert>.prev, <key>.prev) must match for a rollback.
    const prevCert = n.statusFiles.get(`${pc.certPath}.prev`);
    const prevKey = n.statusFiles.get(`${pc.keyPath}.prev`);
    if (
      prevCert?.pubkeySha256 &&
      prevKey?.pubkeySha256 &&
      prevCert.pubkeySha256 !== prevKey.pubkeySha256
    ) {
      add(
        'previous-mismatch',
        n.node,
        `${pc.keyPath}.prev`,
        `${base(pc.keyPath)}.prev does not match ${base(pc.certPath)}.prev: a rollback would fail`,
        fp,
      );
    }
    if (!file) {
      add(
        'missing-file',
        n.node,
        pc.certPath,
        `certificate ${base(pc.certPath)} (${pc.purpose}) is missing`,
      );
    }
    keyFile(n, pc.keyPath, fp, add);
    const st = n.statusFiles.get(pc.certPath);
    if (leaf && st?.pubkeySha256 && leaf.spkiSha256 && st.pubkeySha256 !== leaf.spkiSha256) {
      add(
        'file-changed',
        n.node,
        pc.certPath,
        `${base(pc.certPath)} changed between the status and the read (rotation in progress?)`,
        fp,
      );
    }
  }
  for (const pb of plan.bundles) {
    listed.add(pb.path);
    if (!n.byPath.has(pb.path)) {
      add(
        'missing-file',
        n.node,
        pb.path,
        `trust bundle ${base(pb.path)} (${list(pb.cas)}) is missing`,
      );
    }
  }
  for (const kp of plan.keypairs) {
    listed.add(kp.keyPath);
    listed.add(kp.pubPath);
    keyFile(n, kp.keyPath, undefined, add);
    if (n.haveStatus && !n.statusFiles.get(kp.pubPath)?.exists) {
      add('missing-file', n.node, kp.pubPath, `public key ${base(kp.pubPath)} is missing`);
    }
  }

  // Files of the PKI directory the layout does not list.
  const inDir = new Set<string>();
  for (const f of n.byPath.values()) if (posix.dirname(f.path) === plan.pkiDir) inDir.add(f.path);
  for (const f of n.statusFiles.values())
    if (f.exists && posix.dirname(f.path) === plan.pkiDir) inDir.add(f.path);
  for (const p of [...inDir].sort()) {
    if (listed.has(p)) continue;
    const name = base(p);
    const prev = PREVIOUS.exec(name);
    if (prev && [...listed].some((q) => base(q) === prev[1] || base(q) === `${prev[1]}.pem`)) {
      add('previous-file', n.node, p, `${name}: previous pair kept for rollback`);
      continue;
    }
    const disabled = layout.certs.find(
      (c) => !c.enabled && (base(c.cert) === name || base(c.key) === name),
    );
    const why = disabled
      ? `layout entry ${disabled.id} is disabled`
      : 'not in the layout for this node';
    // Without --node the directory need not be a k8ops layout (a PKI made by other tools):
    // names are noted, its certificates and keys are judged by the other groups.
    if (n.input.anonymous)
      add('unlisted-file', n.node, p, `${name}: ${why} (names are judged with --node)`);
    else add('unknown-file', n.node, p, `${name}: ${why}`);
  }
}

export const files: CheckGroup = {
  name: 'files',
  run(ctx, add) {
    for (const n of ctx.nodes) {
      const { input } = n;
      if (!n.haveStatus && input.files !== undefined) {
        add(
          'status-unavailable',
          n.node,
          input.plan?.pkiDir ?? '',
          `no status from ${n.node}${input.statusError ? ` (${input.statusError})` : ''}: key match, modes and owners not checked`,
        );
      }

      for (const f of input.files ?? []) {
        if (f.errors.length === 0) continue;
        const first = f.errors[0]!;
        const more = f.errors.length > 1 ? ` (+${f.errors.length - 1} more)` : '';
        const where = first.block > 0 ? `block ${first.block}: ` : '';
        add('unparseable', n.node, f.path, `${where}${first.message}${more}`);
      }

      planned(n, ctx.settings.layout, add);

      // Status errors of every other file (planned keys are reported above, with their cert).
      for (const f of n.statusFiles.values()) {
        if (f.error && !n.plannedKeys.has(f.path))
          add('status-error', n.node, f.path, `${base(f.path)}: ${f.error}`);
      }
    }
  },
};
