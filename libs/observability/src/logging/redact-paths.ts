// Fields that may carry credentials, at the top level, one level down (`*.x`) and in header maps.
const SECRET_KEYS = ['apiKey', 'api_key', 'authorization', 'password', 'token', 'accessToken', 'refreshToken', 'secret'];
const SECRET_HEADERS = ['authorization', '"x-api-key"', 'cookie', '"set-cookie"'];

export const REDACT_PATHS: string[] = [
  ...SECRET_KEYS,
  ...SECRET_KEYS.map((key) => `*.${key}`),
  ...SECRET_HEADERS.map((header) => `headers[${header}]`),
  ...SECRET_HEADERS.map((header) => `*.headers[${header}]`),
];

export const REDACTED = '[REDACTED]';
