/** "3 hours ago", as git's `--date=relative` words it (computed here so every listing uses one clock). */
export function relativeDate(thenMs: number, nowMs: number): string {
  const seconds = Math.round((nowMs - thenMs) / 1000);
  if (seconds < 0) return 'in the future';
  const units: Array<[limit: number, size: number, unit: string]> = [
    [90, 1, 'second'],
    [90 * 60, 60, 'minute'],
    [36 * 3600, 3600, 'hour'],
    [14 * 86400, 86400, 'day'],
    [70 * 86400, 7 * 86400, 'week'],
    [365 * 86400, 30 * 86400, 'month'],
  ];
  for (const [limit, size, unit] of units) {
    if (seconds < limit) return plural(Math.round(seconds / size), unit);
  }
  return plural(Math.round(seconds / (365.25 * 86400)), 'year');
}

function plural(count: number, unit: string): string {
  return `${count} ${unit}${count === 1 ? '' : 's'} ago`;
}
