import { createHash } from 'node:crypto';

// Credentials the platform handles, by shape. Order matters: the first pattern that matches a span wins,
// so the Anthropic prefix is tried before the generic `sk-` one.
const PATTERNS: { kind: string; prefix: (match: string) => string; regex: RegExp }[] = [
  { kind: 'anthropic_key', prefix: () => 'sk-ant-', regex: /sk-ant-[A-Za-z0-9_-]{20,}/g },
  { kind: 'provider_key', prefix: (m) => /^sk-(?:proj|or|svcacct)-/.exec(m)?.[0] ?? 'sk-', regex: /sk-(?:proj-|or-|svcacct-)?[A-Za-z0-9_-]{20,}/g },
  { kind: 'github_token', prefix: (m) => m.slice(0, 4), regex: /gh[pousr]_[A-Za-z0-9]{36,}/g },
  { kind: 'github_token', prefix: () => 'github_pat_', regex: /github_pat_[A-Za-z0-9_]{22,}/g },
  { kind: 'platform_api_key', prefix: (m) => m.slice(0, 17), regex: /osk_[a-z0-9]{12}_[A-Za-z0-9_-]{43}/g },
  { kind: 'aws_access_key', prefix: () => 'AKIA', regex: /AKIA[0-9A-Z]{16}/g },
];

// Every pattern starts with one of these; a store can pre-filter with it (also a valid PostgreSQL regex).
export const SECRET_MARKERS = /sk-|gh[pousr]_|github_pat_|osk_|AKIA/;

export interface SecretMatch {
  kind: string;
  // 1-based line within the scanned text.
  line: number;
  // The visible prefix and the first 12 hex of the secret's sha256: enough to find and rotate it, useless to use it.
  fingerprint: string;
}

export function secretFingerprint(prefix: string, secret: string): string {
  return `${prefix}…#${createHash('sha256').update(secret).digest('hex').slice(0, 12)}`;
}

// Every credential-shaped string in `text`, each reported once per line.
export function findSecrets(text: string): SecretMatch[] {
  // Cheap pre-check: most files hold none of the markers.
  if (!SECRET_MARKERS.test(text)) return [];
  const found: SecretMatch[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    if (line.length > 20_000) continue;
    const taken: [number, number][] = [];
    for (const pattern of PATTERNS) {
      for (const match of line.matchAll(pattern.regex)) {
        const start = match.index ?? 0;
        const end = start + match[0].length;
        if (taken.some(([s, e]) => start < e && end > s)) continue;
        taken.push([start, end]);
        found.push({ kind: pattern.kind, line: i + 1, fingerprint: secretFingerprint(pattern.prefix(match[0]), match[0]) });
      }
    }
  }
  return found;
}
