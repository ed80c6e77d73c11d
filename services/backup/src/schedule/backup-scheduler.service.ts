import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { hostname } from 'node:os';
import { BackupCreateService } from '../archive/backup-create.service';
import { BackupCatalogRepository } from '../catalog/backup-catalog.repository';
import { BACKUP_ENV, type BackupEnv } from '../config';
import { BackupDrillService } from '../drill/backup-drill.service';
import { BackupPruneService } from '../retention/backup-prune.service';
import { SecurityAuditService } from '../security/security-audit.service';
import { CronExpression } from './cron-expression';

export interface ScheduledJob {
  name: string;
  cron: CronExpression;
  run: () => Promise<unknown>;
}

const TICK_MS = 20_000;
// A replica that was down longer than this does not run a missed slot late: the alert says it was missed.
const CATCH_UP_MS = 10 * 60_000;

// Runs the cron schedules. Every replica ticks; the claim row in Postgres makes each due slot
// run exactly once across replicas.
@Injectable()
export class BackupSchedulerService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger(BackupSchedulerService.name);
  private timer: NodeJS.Timeout | undefined;
  private busy = false;
  replica = `${hostname()}:${process.pid}`;
  readonly jobs: ScheduledJob[];

  constructor(
    @Inject(BACKUP_ENV) env: BackupEnv,
    private readonly catalog: BackupCatalogRepository,
    creator: BackupCreateService,
    drill: BackupDrillService,
    prune: BackupPruneService,
    security: SecurityAuditService,
  ) {
    const encrypt = env.BACKUP_AGE_RECIPIENTS.length >= 2;
    const jobs: [string, string, () => Promise<unknown>][] = [
      ['full', env.BACKUP_SCHEDULE_FULL, () => creator.create({ type: 'full', encrypt, trigger: 'schedule' })],
      ['database', env.BACKUP_SCHEDULE_DATABASE, () => creator.create({ type: 'database', encrypt, trigger: 'schedule' })],
      ['base', env.BACKUP_SCHEDULE_BASE, () => creator.create({ type: 'base', encrypt, trigger: 'schedule' })],
      ['drill', env.BACKUP_SCHEDULE_DRILL, () => drill.drill()],
    ];
    const backups = jobs.map(([name, cron, run]): [string, string, () => Promise<unknown>] => [
      name,
      cron,
      async () => (await run(), await prune.prune(false)),
    ]);
    // The security audit rides the same claim: each hourly slot is audited by one replica.
    const audit: [string, string, () => Promise<unknown>] = [
      'security-audit',
      env.SECURITY_AUDIT_SCHEDULE,
      () => security.audit({ trigger: 'schedule', acceptBaseline: false }),
    ];
    this.jobs = [...backups, audit].filter(([, cron]) => cron !== 'off').map(([name, cron, run]) => ({ name, cron: new CronExpression(cron), run }));
  }

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.tick(new Date()), TICK_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
  }

  // Runs every job whose latest due time has not been claimed yet; returns the jobs this replica ran.
  async tick(now: Date): Promise<string[]> {
    if (this.busy) return [];
    this.busy = true;
    const ran: string[] = [];
    try {
      await this.catalog.failInterrupted().catch(() => undefined);
      for (const job of this.jobs) {
        const due = job.cron.latestBetween(new Date(now.getTime() - CATCH_UP_MS), now);
        if (!due) continue;
        if (!(await this.catalog.claimSchedule(job.name, due, this.replica).catch(() => false))) continue;
        ran.push(job.name);
        this.log.log(`scheduled ${job.name} due ${due.toISOString()} runs on ${this.replica}`);
        await job.run().catch((err: Error) => this.log.error(`scheduled ${job.name} failed: ${err.message}`));
      }
    } finally {
      this.busy = false;
    }
    return ran;
  }
}
