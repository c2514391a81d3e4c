/**
 * The demo lab's ingress traffic: access log lines in the format the NixOS module
 * configures (nix/lib/ingress-log-format.json: the controller's default plus
 * `$upstream_cache_status $host`), for three hosts — a shop with a realistic hit ratio, a
 * static site that almost always hits (with the odd EXPIRED / STALE / UPDATING /
 * REVALIDATED), and an API that never caches (MISS, BYPASS with an Authorization header) —
 * plus a controller message now and then (not an access line: counted as unparseable, as on
 * a real controller). Deterministic (seeded), so screenshots and tests see the same mix.
 */
import { mulberry32 as prng } from '../store/prng.js';

export const DEMO_INGRESS_HOSTS = {
  shop: 'shop.lab.k8ops.test',
  static: 'static.lab.k8ops.test',
  api: 'api.lab.k8ops.test',
} as const;

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const p2 = (n: number) => String(n).padStart(2, '0');

/** `$time_local` of an epoch ms, in UTC. */
export function timeLocal(t: number): string {
  const d = new Date(t);
  return `${p2(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())} +0000`;
}

const pick = <T>(r: () => number, weighted: ReadonlyArray<readonly [T, number]>): T => {
  const total = weighted.reduce((s, [, w]) => s + w, 0);
  let x = r() * total;
  for (const [v, w] of weighted) {
    x -= w;
    if (x <= 0) return v;
  }
  return weighted.at(-1)![0];
};

const SHOP_CACHE = [
  ['HIT', 78],
  ['MISS', 14],
  ['EXPIRED', 3],
  ['STALE', 1],
  ['UPDATING', 1],
  ['REVALIDATED', 2],
  ['BYPASS', 1],
] as const;
const STATIC_CACHE = [
  ['HIT', 95],
  ['MISS', 3],
  ['EXPIRED', 1],
  ['REVALIDATED', 1],
] as const;
const API_CACHE = [
  ['MISS', 85],
  ['BYPASS', 15],
] as const;

export class DemoIngressTraffic {
  readonly #r: () => number;
  #n = 0;

  constructor(seed = 17) {
    this.#r = prng(seed);
  }

  /** One line at time `t` (epoch ms). */
  line(t: number): string {
    const r = this.#r;
    this.#n++;
    if (this.#n % 400 === 0)
      return `I${p2(new Date(t).getUTCMonth() + 1)}${p2(new Date(t).getUTCDate())} 12:00:00.000000       7 controller.go:214] "Backend successfully reloaded"`;
    const site = pick(r, [
      ['shop', 55],
      ['static', 30],
      ['api', 15],
    ] as const);
    const host = DEMO_INGRESS_HOSTS[site];
    const cache =
      site === 'shop'
        ? pick(r, SHOP_CACHE)
        : site === 'static'
          ? pick(r, STATIC_CACHE)
          : pick(r, API_CACHE);
    const fromCache = cache === 'HIT' || cache === 'STALE' || cache === 'UPDATING';
    const path =
      site === 'api'
        ? `/v1/orders/${Math.floor(r() * 5000)}`
        : site === 'static'
          ? `/assets/app.${Math.floor(r() * 40)}.js`
          : `/products/${Math.floor(r() * 300)}`;
    const status =
      site === 'api' && r() < 0.03
        ? 503
        : r() < 0.04
          ? 404
          : cache === 'MISS' && r() < 0.1
            ? 301
            : 200;
    const bytes =
      status === 200
        ? Math.floor(site === 'static' ? 20_000 + r() * 180_000 : 2_000 + r() * 30_000)
        : 150;
    const upstreamTime = fromCache
      ? undefined
      : site === 'api'
        ? 0.02 + r() * 0.25
        : 0.005 + r() * 0.08;
    const reqTime = (upstreamTime ?? r() * 0.002) + r() * 0.002;
    const svc =
      site === 'api' ? 'shop-api-8080' : site === 'static' ? 'static-web-80' : 'shop-web-80';
    const upstream = `[${'shop'}-${svc}]`;
    const ip = `10.77.${1 + Math.floor(r() * 3)}.${10 + Math.floor(r() * 200)}`;
    // A STALE line carries the upstream status of the refresh that ran in the background
    // (200), or of the failure it stood in for (502): the pane tells the two apart.
    const staleFailed = cache === 'STALE' && r() < 0.25;
    const upstreamShown = !fromCache || cache === 'STALE';
    const upAddr = upstreamShown
      ? `10.244.${Math.floor(r() * 6)}.${10 + Math.floor(r() * 50)}:${site === 'api' ? 8080 : 80}`
      : '-';
    const upLen = !upstreamShown ? '-' : staleFailed ? '0' : String(bytes);
    const upTime =
      upstreamTime === undefined ? (upstreamShown ? '0.004' : '-') : upstreamTime.toFixed(3);
    const upStatus = !upstreamShown ? '-' : staleFailed ? '502' : String(status);
    const reqId = Array.from({ length: 32 }, () => '0123456789abcdef'[Math.floor(r() * 16)]).join(
      '',
    );
    const auth = cache === 'BYPASS' ? 'svc-token' : '-';
    return `${ip} - ${auth} [${timeLocal(t)}] "GET ${path} HTTP/2.0" ${status} ${bytes} "-" "Mozilla/5.0 (X11; Linux x86_64)" ${120 + Math.floor(r() * 400)} ${reqTime.toFixed(3)} ${upstream} [] ${upAddr} ${upLen} ${upTime} ${upStatus} ${reqId} ${cache} ${host}`;
  }
}
