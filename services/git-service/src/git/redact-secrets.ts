// Authorization header values, should git ever echo one (GIT_TRACE, a verbose proxy error).
const AUTH_HEADER = /(authorization:\s*)(basic|bearer|token)\s+\S+/gi;
// `https://user:token@host` → `https://***@host`.
const URL_USERINFO = /(\b[a-z][a-z0-9+.-]*:\/\/)[^\s/?#@]+@/gi;

/**
 * Removes each secret, its base64 forms as they appear in a Basic auth header, URL userinfo
 * and Authorization header values from a text that may reach a log or a caller.
 */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length < 4) continue;
    for (const form of [secret, basicAuthValue(secret), Buffer.from(secret).toString('base64')]) out = out.split(form).join('***');
  }
  return out.replace(URL_USERINFO, '$1***@').replace(AUTH_HEADER, '$1$2 ***');
}

// What GitHub expects for a token over HTTPS: Basic with the user `x-access-token`.
export function basicAuthValue(token: string): string {
  return Buffer.from(`x-access-token:${token}`).toString('base64');
}
