import { AppError, ErrorCode } from '@overskill/contracts';
import { hasControlCharacter } from '../git/control-characters';

export interface RemoteUrl {
  // As stored in the repository's config: scheme, host, path; never credentials.
  url: string;
  // `https://github.com/`: what the auth header is scoped to, so a redirect elsewhere never gets it.
  origin: string;
}

export interface RemotePolicy {
  allowedHosts: readonly string[];
  allowHttp: boolean;
}

// Only https (http when allowed) to an allowed host, and no credentials in the URL: the token
// travels in its own field, so it can never end up in .git/config or a log line.
export function parseRemoteUrl(raw: string, policy: RemotePolicy): RemoteUrl {
  const text = raw.trim();
  if (!URL.canParse(text)) throw new AppError(ErrorCode.GIT_REMOTE_URL_INVALID, 'url must be an https:// URL of a repository');
  const url = new URL(text);
  if (url.username || url.password) throw new AppError(ErrorCode.GIT_REMOTE_URL_INVALID, 'url must not carry credentials; pass the token in the token field');
  const protocols = policy.allowHttp ? ['https:', 'http:'] : ['https:'];
  if (!protocols.includes(url.protocol))
    throw new AppError(ErrorCode.GIT_REMOTE_URL_INVALID, `url must use ${protocols.map((p) => p.replace(':', '')).join(' or ')}`);
  if (!policy.allowedHosts.includes(url.hostname.toLowerCase())) {
    throw new AppError(
      ErrorCode.GIT_REMOTE_URL_INVALID,
      `${url.hostname} is not an allowed remote host (${policy.allowedHosts.join(', ')}); see GIT_REMOTE_ALLOWED_HOSTS`,
    );
  }
  if (url.search || url.hash || url.pathname.length <= 1 || url.pathname.includes('..'))
    throw new AppError(ErrorCode.GIT_REMOTE_URL_INVALID, 'url must name a repository, without query or fragment');
  return { url: `${url.protocol}//${url.host}${url.pathname}`, origin: `${url.protocol}//${url.host}/` };
}

export function assertToken(token: string): void {
  if (token.length > 1024 || /\s/.test(token) || hasControlCharacter(token))
    throw new AppError(ErrorCode.VALIDATION_FAILED, 'token is not a valid access token');
}
