// Credentials that can turn up in prompts and answers (API keys, bearer tokens, URL passwords):
// AI_DEBUG logs carry everything else in full.
const SECRET_PATTERNS: Array<[RegExp, string]> = [
  [/\bosk_[a-z0-9]{12}_[A-Za-z0-9_-]{20,}/g, 'osk_[REDACTED]'],
  [/\bsk-(?:ant-|proj-|or-)?[A-Za-z0-9_-]{16,}/g, 'sk-[REDACTED]'],
  [/\b(gh[pousr]_[A-Za-z0-9]{20,})/g, 'gh_[REDACTED]'],
  [/\bAKIA[0-9A-Z]{16}\b/g, 'AKIA[REDACTED]'],
  [/(bearer\s+)[A-Za-z0-9._~+/=-]{12,}/gi, '$1[REDACTED]'],
  [/("?(?:api[_-]?key|x-api-key|authorization|password|secret|token)"?\s*[:=]\s*"?)[^"\s,}]{6,}/gi, '$1[REDACTED]'],
  [/([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@"]+@/gi, '$1[REDACTED]@'],
];

export function redactSecrets(text: string): string {
  let out = text;
  for (const [pattern, replacement] of SECRET_PATTERNS) out = out.replace(pattern, replacement);
  return out;
}

/** A value as JSON for a debug log line, secrets redacted. */
export function debugJson(value: unknown): string {
  return redactSecrets(JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)));
}
