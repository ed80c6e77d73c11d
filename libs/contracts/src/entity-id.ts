// Every id the platform mints (teams, apps, runs, events) is a lowercase UUID. An app id is
// also a folder name on the workspace volume, so anything else must never reach a path.
const ENTITY_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function isEntityId(value: unknown): boolean {
  return typeof value === 'string' && ENTITY_ID.test(value);
}
