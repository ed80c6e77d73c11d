const REDACTED = '[redacted]';

// Credentials a page may print or put in a URL: provider keys, platform keys, JWTs, bearer and
// basic credentials, and key=value pairs whose name says secret.
const TOKEN_PATTERNS: RegExp[] = [
  /\bsk-(?:ant-|proj-)?[A-Za-z0-9_-]{16,}/g,
  /\bosk_[A-Za-z0-9]+_[A-Za-z0-9_-]{16,}/g,
  /\bgh[pousr]_[A-Za-z0-9]{20,}/g,
  /\bgithub_pat_[A-Za-z0-9_]{20,}/g,
  /\bxox[abprs]-[A-Za-z0-9-]{10,}/g,
  /\bAKIA[0-9A-Z]{16}\b/g,
  /\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g,
];
const SCHEME_CREDENTIALS = /\b(bearer|basic|token)\s+[A-Za-z0-9._~+/=-]{8,}/gi;
const SECRET_NAME =
  '(?:api[_-]?key|apikey|access[_-]?token|refresh[_-]?token|id[_-]?token|token|secret|client[_-]?secret|password|passwd|pwd|auth|authorization|session|sessionid|sig|signature|credential|private[_-]?key)';
// The value after the name, unless a pattern above already took it (`Authorization: Bearer …`).
const NAMED_SECRET = new RegExp(`(["']?\\b${SECRET_NAME}["']?\\s*[=:]\\s*)(["']?)(?!(?:bearer|basic|token)\\s|\\[redacted\\])[^\\s"'&,;}]+`, 'gi');
const SECRET_PARAM = new RegExp(`^${SECRET_NAME}$`, 'i');

export function redactSecrets(text: string): string {
  let out = text;
  for (const pattern of TOKEN_PATTERNS) out = out.replace(pattern, REDACTED);
  out = out.replace(SCHEME_CREDENTIALS, (_m, scheme: string) => `${scheme} ${REDACTED}`);
  return out.replace(NAMED_SECRET, (_m, name: string, quote: string) => `${name}${quote}${REDACTED}`);
}

// A request URL as the agent may see it: no user:password, no values of secret-named query
// parameters, no fragment; then the text patterns above.
export function redactUrl(raw: string, base?: string): string {
  let url: URL;
  try {
    url = new URL(raw, base);
  } catch {
    return redactSecrets(raw);
  }
  if (url.username || url.password) {
    url.username = '';
    url.password = '';
  }
  for (const name of [...url.searchParams.keys()]) if (SECRET_PARAM.test(name)) url.searchParams.set(name, REDACTED);
  url.hash = '';
  const shown = base && url.origin === new URL(base).origin ? `${url.pathname}${url.search}` : url.href;
  return redactSecrets(shown.replace(/%5Bredacted%5D/gi, REDACTED));
}
