/** `2d 4h`, `5h 12m`, `7m` — a duration in its two largest units. */
export function formatDuration(ms: number): string {
  const m = Math.floor(Math.max(0, ms) / 60_000);
  const d = Math.floor(m / 1440);
  const h = Math.floor((m % 1440) / 60);
  const min = m % 60;
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${min}m`;
  return `${min}m`;
}
