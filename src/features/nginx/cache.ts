/**
 * The proxy cache's size on disk, per cache zone, against its `max_size` — read where the
 * cache lives: on the node that runs nginx (an ingress-nginx controller pod, or nginx on the
 * node itself), through NodeAgent.exec and readFiles, read-only and bounded:
 *
 *   1. every nginx master on the node, with its command line (the `-c` config file, the `-p`
 *      prefix), as `pgrep -a -f '^nginx: master process'` prints it (NGINX_MASTERS_SCRIPT);
 *   2. the config as that master sees it, `/proc/<pid>/root/<conf>` (a container's file
 *      system from the node, or the node's own for nginx on the node): its
 *      `proxy_cache_path` directives give each zone's directory and max_size (ingress-nginx
 *      renders the ConfigMap's http-snippet into it, as the NixOS module sets it);
 *   3. `du -s -B1 -x /proc/<pid>/root/<dir>…`: the bytes each directory takes on disk (the
 *      blocks nginx's cache manager counts against max_size).
 *
 * The parsers here are pure and never throw; the collector is in sources.ts.
 */

/** One `proxy_cache_path` directive. */
export interface ProxyCachePath {
  path: string;
  zone: string;
  /** keys_zone size in bytes (shared memory for the keys), when given. */
  keysZoneBytes?: number;
  /** max_size in bytes; undefined: unlimited (nginx then fills the disk). */
  maxBytes?: number;
  /** `inactive` as written (`60m`). */
  inactive?: string;
  levels?: string;
}

const UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/** nginx's size syntax (`512`, `64k`, `50m`, `2g`; case-insensitive) in bytes. */
export function parseNginxSize(text: string): number | undefined {
  const m = /^(\d{1,15})([kKmMgG]?)$/.exec(text);
  if (!m) return undefined;
  const n = Number(m[1]) * UNITS[m[2]!.toLowerCase()]!;
  return Number.isSafeInteger(n) ? n : undefined;
}

/**
 * The words of every `proxy_cache_path` directive of an nginx configuration text (comments
 * dropped, quotes honoured). Not a full nginx parser: the directive is only valid at http
 * level, where ingress-nginx and the NixOS module put it, so a word-level scan suffices.
 */
function directives(text: string, name: string): string[][] {
  const out: string[][] = [];
  let words: string[] = [];
  let word = '';
  let quote = '';
  let comment = false;
  const flush = () => {
    if (word !== '') words.push(word);
    word = '';
  };
  for (let i = 0; i < text.length && i < 4_000_000; i++) {
    const c = text[i]!;
    if (comment) {
      if (c === '\n') comment = false;
      continue;
    }
    if (quote) {
      if (c === '\\' && i + 1 < text.length) word += text[++i];
      else if (c === quote) quote = '';
      else word += c;
      continue;
    }
    if (c === '"' || c === "'") quote = c;
    else if (c === '#') {
      flush();
      comment = true;
    } else if (c === ';' || c === '{' || c === '}') {
      flush();
      if (c === ';' && words[0] === name) out.push(words);
      words = [];
    } else if (/\s/.test(c)) flush();
    else word += c;
  }
  return out;
}

/** Every `proxy_cache_path` of a configuration text; a directive without a zone is skipped. */
export function parseProxyCachePaths(text: string): ProxyCachePath[] {
  const out: ProxyCachePath[] = [];
  for (const w of directives(typeof text === 'string' ? text : '', 'proxy_cache_path')) {
    const path = w[1];
    if (!path?.startsWith('/')) continue;
    const p: Partial<ProxyCachePath> = { path };
    for (const arg of w.slice(2)) {
      const eq = arg.indexOf('=');
      if (eq < 0) continue;
      const k = arg.slice(0, eq);
      const v = arg.slice(eq + 1);
      if (k === 'keys_zone') {
        const [zone, size] = v.split(':');
        if (zone) p.zone = zone;
        const b = size ? parseNginxSize(size) : undefined;
        if (b !== undefined) p.keysZoneBytes = b;
      } else if (k === 'max_size') {
        const b = parseNginxSize(v);
        if (b !== undefined) p.maxBytes = b;
      } else if (k === 'inactive') p.inactive = v;
      else if (k === 'levels') p.levels = v;
    }
    if (p.zone) out.push(p as ProxyCachePath);
  }
  return out;
}

/** An nginx master process and where its configuration file is. */
export interface NginxMaster {
  pid: number;
  /** Absolute path of the configuration, as the master sees its file system. */
  conf: string;
  /** The master's command line as pgrep prints it. */
  command: string;
}

/** nginx's compiled-in defaults on Debian and in the ingress-nginx image. */
export const DEFAULT_NGINX_CONF = '/etc/nginx/nginx.conf';
const DEFAULT_PREFIX = '/etc/nginx/';

/**
 * nginx's masters on a node, for a third of pgrep's cost (issue 13: pgrep opened several
 * /proc files of every process, ~2,400 system calls; it was most of a warm refresh's CPU on
 * a node): ONE `grep` over the processes' command lines. It prints each matching line with
 * its file and byte offset, `/proc/PID/cmdline:OFFSET:LINE`, the arguments NUL-separated;
 * grepMastersToPgrep keeps the lines at offset 0 (the command line starts with the title:
 * pgrep -f's `^`; a later line of a command line with a newline in it is not a master) and
 * gives what `pgrep -a -f '^nginx: master process'` prints. `sh -c` starts the one `grep`
 * by vfork: no command substitution, no `tr` per master. It runs on every refresh of every
 * node. Exit status: grep's (0 found, 1 none, 2 an error: a process that ended between the
 * glob and its read is one, `-s` keeps it quiet).
 */
export const NGINX_MASTERS_SCRIPT =
  "grep -s -a -H -b -e '^nginx: master process' /proc/[0-9]*/cmdline";
export const NGINX_MASTERS_ARGV = ['sh', '-c', NGINX_MASTERS_SCRIPT] as const;

/**
 * NGINX_MASTERS_SCRIPT's output as `pgrep -a -f '^nginx: master process'` prints it (`PID
 * command line` per master): lines at offset 0 only, each run of NULs a space, a trailing
 * one dropped (as `tr -s '\\0' ' '` and pgrep). Pure; anything else is skipped.
 */
export function grepMastersToPgrep(stdout: string): string {
  const out: string[] = [];
  for (const line of (typeof stdout === 'string' ? stdout : '').split('\n')) {
    const m = /^\/proc\/(\d{1,10})\/cmdline:0:(nginx: master process.*)$/s.exec(line);
    if (m) out.push(`${m[1]} ${m[2]!.replace(/\0+/g, ' ').replace(/ $/, '')}`);
  }
  return out.join('\n');
}

/**
 * `pgrep -a -f '^nginx: master process'` output (or grepMastersToPgrep's): one `PID command
 * line` per master. nginx rewrites its argv into `nginx: master process <argv…>`, so `-c
 * FILE` and `-p PREFIX` are words of it (a relative `-c` is relative to the prefix). At
 * most `max` masters.
 */
export function parsePgrepMasters(stdout: string, max = 16): NginxMaster[] {
  const out: NginxMaster[] = [];
  for (const line of (typeof stdout === 'string' ? stdout : '').split('\n')) {
    const m = /^\s*(\d{1,10})\s+(nginx: master process\b.*)$/.exec(line);
    if (!m) continue;
    const pid = Number(m[1]);
    if (!Number.isSafeInteger(pid) || pid <= 0) continue;
    const words = m[2]!.trim().split(/\s+/);
    const arg = (flag: string) => {
      const i = words.indexOf(flag);
      return i >= 0 ? words[i + 1] : undefined;
    };
    const prefix = arg('-p') ?? DEFAULT_PREFIX;
    let conf = arg('-c') ?? DEFAULT_NGINX_CONF;
    if (!conf.startsWith('/')) conf = `${prefix.replace(/\/?$/, '/')}${conf}`;
    if (!safeAbsolute(conf)) continue;
    out.push({ pid, conf, command: m[2]!.slice(0, 512) });
    if (out.length >= max) break;
  }
  return out;
}

/** An absolute path of plain characters without `..` (what k8ops sends to a node). */
export function safeAbsolute(p: string): boolean {
  return /^\/[A-Za-z0-9._\-/@+]*$/.test(p) && !p.split('/').includes('..') && p.length <= 1024;
}

/** `/proc/<pid>/root<path>`: a path as the process sees its file system, from the node. */
export const procRoot = (pid: number, path: string): string =>
  `/proc/${pid}/root${path.startsWith('/') ? path : `/${path}`}`;

/**
 * `du -s -B1 -x DIR…` output: `bytes<TAB>path` per directory it could read (a directory
 * it could not read is missing here and named on stderr).
 */
export function parseDu(stdout: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of (typeof stdout === 'string' ? stdout : '').split('\n')) {
    const m = /^(\d{1,18})\t(\/.*)$/.exec(line);
    if (!m) continue;
    const n = Number(m[1]);
    if (Number.isSafeInteger(n)) out.set(m[2]!, n);
  }
  return out;
}

/** One zone's cache on one node, as the source writes it. */
export interface CacheZoneOnDisk {
  zone: string;
  /** The directory as nginx sees it (the proxy_cache_path). */
  path: string;
  maxBytes?: number;
  /** Bytes on disk (du), or why not. */
  bytes?: number;
  error?: string;
}

export interface NodeCacheValue {
  /** nginx masters found (0: nginx does not run on this node). */
  masters: Array<{ pid: number; conf: string; error?: string; zones: CacheZoneOnDisk[] }>;
}
