import { CliError } from '../cli-context';

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

// `30d`, `12h`, `90m`, `45s` → seconds; the option's name goes into the error.
export function parseDuration(text: string, option: string): number {
  const [, amount = '0', unit = ''] = /^(\d+)([smhd])$/.exec(text.trim()) ?? [];
  const seconds = Number(amount) * (UNITS[unit] ?? 0);
  if (seconds === 0) throw new CliError(`${option} takes a duration like 7d, 12h, 30m or 45s (got "${text}")`);
  return seconds;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 ** 2) return `${(bytes / 1024).toFixed(1)} KB`;
  if (bytes < 1024 ** 3) return `${(bytes / 1024 ** 2).toFixed(1)} MB`;
  return `${(bytes / 1024 ** 3).toFixed(2)} GB`;
}
