// Every id the platform mints (teams, apps, runs, events) is a lowercase UUID. An app id is
// also a folder name on the workspace volume, so anything else must never reach a path.
const ENTITY_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function isEntityId(value: unknown): boolean {
  return typeof value === 'string' && ENTITY_ID.test(value);
}

// A client's Idempotency-Key (on posting a message): printable, bounded, safe in logs and headers.
export const IDEMPOTENCY_KEY_PATTERN = /^[A-Za-z0-9._:+/=-]{1,128}$/;
export const IDEMPOTENCY_KEY_RULE = 'Idempotency-Key must be 1 to 128 characters: letters, digits and . _ : + / = -';
