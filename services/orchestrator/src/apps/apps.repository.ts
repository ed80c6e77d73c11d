import { Injectable } from '@nestjs/common';
import { DataSource, In, type Repository } from 'typeorm';
import { keysetBefore } from '../common/page-token';
import { AppEntity, type RunStatusName } from '../persistence/entities';
import { preparedEntity, preparedQuery, type PgTypes } from '../persistence/prepared-query';

export type AppListRow = Pick<AppEntity, 'id' | 'teamId' | 'name' | 'description' | 'template' | 'maxIterations' | 'createdAt' | 'updatedAt'>;

// A listed app as the list answers it: its times already as ISO-8601 strings.
export type AppListItem = Omit<AppListRow, 'createdAt' | 'updatedAt'> & { createdAt: string; updatedAt: string };

interface AppListSqlRow {
  id: string;
  team_id: string;
  name: string;
  description: string;
  template: string;
  max_iterations: number;
  // Text as PostgreSQL sent it (see textTimestamps), or a Date from TypeORM's fallback.
  created_at: string | Date;
  updated_at: string | Date;
}

const TIMESTAMPTZ_OID = 1184;
// "2026-12-05 09:58:01.123456+00": the form PostgreSQL sends a timestamptz in a UTC session.
const UTC_TIMESTAMP = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)?\+00$/;

const LIST_COLUMNS = 'SELECT id, team_id, name, description, template, max_iterations, created_at, updated_at FROM "orchestrator"."apps" a';
const LIST_FIRST = {
  name: 'orchestrator.apps.list',
  text: `${LIST_COLUMNS} WHERE team_id = $1 AND kind = 'app' ORDER BY created_at DESC, id DESC LIMIT $2`,
};
const LIST_AFTER = {
  name: 'orchestrator.apps.list-after',
  text: `${LIST_COLUMNS} WHERE team_id = $1 AND kind = 'app' AND ${keysetBefore('a', '"orchestrator"."apps"', '$3', '$4')}
         ORDER BY created_at DESC, id DESC LIMIT $2`,
};

// Every message posted reads its app.
const APP_OF_TEAM = { name: 'orchestrator.apps.of-team', tail: "WHERE id = $1 AND team_id = $2 AND kind = 'app'" };

export interface DeletedRun {
  id: string;
  status: RunStatusName;
  lastSeq: number;
}

@Injectable()
export class AppsRepository {
  private readonly apps: Repository<AppEntity>;
  private timestampTypes?: PgTypes | null;

  constructor(private readonly dataSource: DataSource) {
    this.apps = dataSource.getRepository(AppEntity);
  }

  insert(app: Pick<AppEntity, 'id' | 'teamId' | 'name' | 'description' | 'template'>): Promise<AppEntity> {
    return this.apps.save(this.apps.create(app));
  }

  async setInitSha(id: string, sha: string): Promise<void> {
    await this.apps.update({ id }, { initSha: sha });
  }

  async delete(id: string): Promise<void> {
    await this.apps.delete({ id });
  }

  // A task's workspace: worked by the agent loop like an app, never listed or changed as one.
  async insertTaskWorkspace(app: Pick<AppEntity, 'id' | 'teamId' | 'name' | 'description'>): Promise<void> {
    await this.apps
      .createQueryBuilder()
      .insert()
      .values({ ...app, template: 'github', kind: 'task' })
      .orIgnore()
      .execute();
  }

  // Tenant-scoped: another team's app is indistinguishable from a missing one.
  findForTeam(teamId: string, id: string): Promise<AppEntity | null> {
    return preparedEntity(this.dataSource, AppEntity, APP_OF_TEAM, [id, teamId]);
  }

  async existingIds(ids: string[]): Promise<string[]> {
    const rows = await this.apps.find({ select: { id: true }, where: { id: In(ids) } });
    return rows.map((row) => row.id);
  }

  // Keyset pagination on (created_at, id), newest first, on the apps_team_created index. The
  // API's busiest read: a named prepared statement on the driver's pool (parsed and planned once
  // per connection; TypeORM's query runner skipped), plain rows of the listed columns. The times
  // go out as ISO strings: they are formatted from PostgreSQL's text, never parsed into a Date.
  async listForTeam(teamId: string, limit: number, after?: { createdAt: Date; id: string }): Promise<AppListItem[]> {
    const statement = after ? LIST_AFTER : LIST_FIRST;
    const values = after ? [teamId, limit, after.createdAt, after.id] : [teamId, limit];
    const rows = await preparedQuery<AppListSqlRow>(this.dataSource, statement, values, this.textTimestamps());
    return rows.map((r) => ({
      id: r.id,
      teamId: r.team_id,
      name: r.name,
      description: r.description,
      template: r.template,
      maxIterations: r.max_iterations,
      createdAt: isoTime(r.created_at),
      updatedAt: isoTime(r.updated_at),
    }));
  }

  // pg's own parsers, except that a timestamptz stays the text PostgreSQL sent.
  private textTimestamps(): PgTypes | undefined {
    if (this.timestampTypes !== undefined) return this.timestampTypes ?? undefined;
    const pgTypes = (this.dataSource.driver as { postgres?: { types?: PgTypes } }).postgres?.types;
    this.timestampTypes = pgTypes
      ? { getTypeParser: (oid, format) => (oid === TIMESTAMPTZ_OID && format !== 'binary' ? String : pgTypes.getTypeParser(oid, format)) }
      : null;
    return this.timestampTypes ?? undefined;
  }

  async update(teamId: string, id: string, fields: Partial<Pick<AppEntity, 'name' | 'description' | 'maxIterations'>>): Promise<AppEntity | null> {
    if (Object.keys(fields).length > 0) await this.apps.update({ id, teamId, kind: 'app' }, fields);
    return this.findForTeam(teamId, id);
  }

  // One transaction: the app row goes, and with it (ON DELETE CASCADE) its messages, runs and
  // steps. Returns the runs that had not finished, with their last event seq, so their
  // listeners can be told. null = no such app for this team.
  async deleteWithHistory(teamId: string, id: string): Promise<DeletedRun[] | null> {
    return this.dataSource.transaction(async (tx) => {
      const locked: unknown[] = await tx.query(`SELECT id FROM "orchestrator"."apps" WHERE id = $1 AND team_id = $2 AND kind = 'app' FOR UPDATE`, [id, teamId]);
      if (locked.length === 0) return null;
      const open: Array<{ id: string; status: RunStatusName; last_seq: number | null }> = await tx.query(
        `SELECT r.id, r.status, (SELECT MAX(s.seq) FROM "orchestrator"."run_steps" s WHERE s.run_id = r.id) AS last_seq
           FROM "orchestrator"."runs" r WHERE r.app_id = $1 AND r.status IN ('queued', 'running') FOR UPDATE OF r`,
        [id],
      );
      await tx.delete(AppEntity, { id, teamId });
      return open.map((r) => ({ id: r.id, status: r.status, lastSeq: Number(r.last_seq ?? 0) }));
    });
  }
}

// The ISO-8601 form Date#toISOString gives (milliseconds, truncated like a Date's), straight from
// a UTC timestamp's text; any other form (another session time zone, a Date) through a Date.
export function isoTime(value: string | Date): string {
  if (typeof value === 'string' && UTC_TIMESTAMP.test(value)) {
    const dot = value.indexOf('.', 19);
    const ms = dot === -1 ? '000' : `${value.slice(dot + 1, value.length - 3)}000`.slice(0, 3);
    return `${value.slice(0, 10)}T${value.slice(11, 19)}.${ms}Z`;
  }
  return (value instanceof Date ? value : parsePgTimestamp(value)).toISOString();
}

// PostgreSQL's text for a timestamptz in any session time zone ("… 10:58:01.5+01", "…-03:30").
function parsePgTimestamp(text: string): Date {
  const date = new Date(text.replace(' ', 'T').replace(/([+-]\d\d)$/, '$1:00'));
  if (Number.isNaN(date.getTime())) throw new Error(`unexpected timestamp from PostgreSQL: ${text}`);
  return date;
}
