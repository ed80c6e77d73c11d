import { randomBytes } from 'node:crypto';

// A preview id: 20 base32 letters (100 random bits), lower case so it survives DNS.
const ID = '[a-z2-7]{20}';
const LABEL = new RegExp(`^(${ID})(?:-([0-9a-f]{40}))?$`);
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';

export interface PreviewAddress {
  previewId: string;
  // A version by sha; absent: the latest version.
  sha?: string;
}

export function newPreviewId(): string {
  const bytes = randomBytes(20);
  let id = '';
  for (const byte of bytes) id += ALPHABET[byte & 31];
  return id;
}

export function isPreviewId(value: string): boolean {
  return new RegExp(`^${ID}$`).test(value);
}

// `<preview-id>.<domain>` or `<preview-id>-<sha>.<domain>` (one DNS label, so one wildcard
// certificate covers every version); anything else is not a preview.
export function parsePreviewHost(host: string | undefined, domain: string): PreviewAddress | undefined {
  if (!host) return undefined;
  const name = host
    .toLowerCase()
    .replace(/:\d{1,5}$/, '')
    .replace(/\.$/, '');
  const suffix = `.${domain.toLowerCase()}`;
  if (!name.endsWith(suffix)) return undefined;
  const match = LABEL.exec(name.slice(0, -suffix.length));
  if (!match?.[1]) return undefined;
  return match[2] ? { previewId: match[1], sha: match[2] } : { previewId: match[1] };
}

export function previewOrigin(base: URL, address: PreviewAddress): string {
  const url = new URL(base.href);
  url.hostname = `${address.previewId}${address.sha ? `-${address.sha}` : ''}.${base.hostname}`;
  return url.origin;
}
