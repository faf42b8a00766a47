/** Byte sizes as the notes count them: divide by 1024 for each step, and say so in the unit (KiB, not KB). */

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'] as const;

/** `1536` -> `1.50 KiB`; below 1 KiB, whole bytes (`512 B`). */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(2)} ${UNITS[unit]}`;
}

/**
 * `12GiB`, `512 MiB`, `1.5GiB` or a plain byte count -> bytes. SI units (`12GB`) are refused rather
 * than guessed at: a 1000-based GB is 7% smaller than a GiB.
 */
export function parseBytes(text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([A-Za-z]*)$/.exec(text.trim());
  const unit = UNITS.findIndex((u) => u.toLowerCase() === (match?.[2] || 'B').toLowerCase());
  if (match === null || unit < 0) {
    throw new Error(`expected a size such as 12GiB, 512MiB or 1000000 (1024-based units B, KiB, MiB, GiB, TiB), got '${text}'`);
  }
  return Math.floor(Number(match[1]) * 1024 ** unit);
}
