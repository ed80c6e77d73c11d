import { AppError, ErrorCode, isEntityId } from '@overskill/contracts';

// Keyset cursor over (created_at, id): stable under inserts, opaque to clients.
// The time as a Date or already as its ISO string (Date#toISOString).
export function encodePageToken(row: { createdAt: Date | string; id: string }): string {
  const createdAt = typeof row.createdAt === 'string' ? row.createdAt : row.createdAt.toISOString();
  return Buffer.from(`${createdAt}|${row.id}`).toString('base64url');
}

export function decodePageToken(token: string): { createdAt: Date; id: string } | undefined {
  if (!token) return undefined;
  const [createdAt, id] = Buffer.from(token, 'base64url').toString('utf8').split('|');
  const date = new Date(createdAt ?? '');
  if (!id || !isEntityId(id) || Number.isNaN(date.getTime()))
    throw new AppError(ErrorCode.VALIDATION_FAILED, 'page_token is not valid; pass the token from the previous page');
  return { createdAt: date, id };
}

// The SQL condition for the rows after the cursor, newest first. The token's time has only
// milliseconds while created_at has microseconds, so the bound is the cursor row's own stored
// created_at; only when that row has been deleted since does the token's time stand in, one
// millisecond later, so that a row may repeat but none is skipped.
export function keysetBefore(alias: string, tablePath: string, createdAt: string, id: string): string {
  const bound = `COALESCE((SELECT k.created_at FROM ${tablePath} k WHERE k.id = ${id}), CAST(${createdAt} AS timestamptz) + interval '1 millisecond')`;
  return `(${alias}.created_at, ${alias}.id) < (${bound}, ${id})`;
}

export function pageSize(requested: number): number {
  return Math.min(Math.max(requested || 20, 1), 100);
}

// Rows were fetched with limit + 1: the extra row says there is a next page.
export function paginate<T extends { createdAt: Date | string; id: string }>(rows: T[], limit: number): { page: T[]; nextPageToken: string } {
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return { page, nextPageToken: rows.length > limit && last ? encodePageToken(last) : '' };
}
