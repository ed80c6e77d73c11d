import { Inject, Injectable } from '@nestjs/common';
import { AppError, ErrorCode, type Rpc } from '@overskill/contracts';
import type { RpcReply, RpcRequest } from '@overskill/messaging';
import { LOGGER } from '@overskill/observability';
import type { Logger } from 'pino';
import type { GitHubDeliveryEntity, ProjectEntity } from '../persistence/entities';
import { followUpOf, type FollowUpEvent } from '../task-follow-ups/follow-up-events';
import { FollowUpsService, type FollowUpPermission } from '../task-follow-ups/follow-ups.service';
import { TaskMetrics } from './task-metrics';
import { TaskQueueRepository } from './task-queue.repository';
import { TasksRepository, type TaskWriter } from './tasks.repository';

interface IssuePayload {
  action?: string;
  label?: { name?: string };
  issue?: { number?: number; title?: string; state?: string; labels?: Array<{ name?: string }>; pull_request?: unknown };
  sender?: { login?: string };
}

// Webhook deliveries: recorded and queued at once (the gateway answers GitHub right after),
// then turned into tasks by the TASKS consumer, each delivery exactly once.
@Injectable()
export class GitHubDeliveriesService {
  constructor(
    private readonly tasks: TasksRepository,
    private readonly queue: TaskQueueRepository,
    private readonly metrics: TaskMetrics,
    private readonly followUps: FollowUpsService,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async ingest(req: RpcRequest<typeof Rpc.githubDeliveryIngest>): Promise<RpcReply<typeof Rpc.githubDeliveryIngest>> {
    if ((await this.tasks.projectsFor(req.repository)).length === 0) {
      throw new AppError(
        ErrorCode.WEBHOOK_REPOSITORY_UNKNOWN,
        `No project tracks ${req.repository.slice(0, 200)}; add it with POST /api/projects or remove the webhook`,
      );
    }
    let payload: Record<string, unknown>;
    try {
      payload = JSON.parse(req.payloadJson) as Record<string, unknown>;
    } catch {
      throw new AppError(ErrorCode.VALIDATION_FAILED, 'The delivery payload is not JSON');
    }
    const recorded = await this.tasks.recordDelivery({ deliveryId: req.deliveryId, event: req.event, action: req.action, repository: req.repository, payload });
    if (!recorded && (await this.tasks.findDelivery(req.deliveryId))?.processedAt) return { duplicate: true };
    // Also for a recorded but unprocessed delivery: its first publish may never have happened.
    await this.queue.publishDelivery(req.deliveryId);
    return { duplicate: !recorded };
  }

  // From the TASKS consumer. Unknown to the database (already processed or never recorded): dropped.
  async process(deliveryId: string): Promise<void> {
    // Counted once the transaction has committed.
    const created: Array<{ projectId: string; priority: number }> = [];
    // A comment or review: who wrote it is asked of GitHub before the transaction, not inside it.
    const pending = await this.tasks.findDelivery(deliveryId);
    if (!pending || pending.processedAt) return;
    const followUp = followUpOf(pending.event, pending.action, pending.payload);
    const allowed = new Map<string, FollowUpPermission>();
    const asked = followUp ? await this.tasks.projectsFor(pending.repository) : [];
    for (const p of asked) {
      const permission = await this.followUps.mayContinue(p, followUp as FollowUpEvent);
      if (typeof permission === 'object') {
        this.logger.warn(
          { deliveryId, projectId: p.id, teamId: p.teamId, reason: permission.unchecked },
          "a follow-up's author could not be checked with the project's credentials",
        );
      }
      allowed.set(p.id, permission);
    }
    const outcome = await this.tasks.processDelivery(deliveryId, async (delivery, tx) => {
      const projects = await this.tasks.projectsFor(delivery.repository);
      const outcomes: string[] = [];
      // One after the other: they share the transaction's connection.
      for (const p of projects) outcomes.push(await this.apply(delivery, p, tx, created, followUp, allowed.get(p.id)));
      return outcomes.join('; ') || 'no project';
    });
    if (outcome === undefined) return;
    for (const c of created) this.metrics.taskCreated(c.projectId, c.priority, 'webhook');
    this.logger.info({ deliveryId, outcome }, 'github delivery processed');
  }

  private async apply(
    delivery: GitHubDeliveryEntity,
    project: ProjectEntity,
    tx: TaskWriter,
    created: Array<{ projectId: string; priority: number }>,
    followUp: FollowUpEvent | undefined,
    allowed: FollowUpPermission,
  ): Promise<string> {
    if (followUp) return this.followUps.apply(project, followUp, allowed, tx.followUps());
    if (delivery.event !== 'issues') return `${delivery.event}.${delivery.action}: ignored`;
    const body = delivery.payload as IssuePayload;
    const issue = body.issue;
    const labels = (issue?.labels ?? []).map((l) => l.name ?? '');
    const trigger = project.labels.trigger;
    const triggered = (delivery.action === 'labeled' && body.label?.name === trigger) || (delivery.action === 'opened' && labels.includes(trigger));
    if (!triggered || !issue || typeof issue.number !== 'number' || issue.state !== 'open' || issue.pull_request)
      return `issues.${delivery.action}: not a trigger`;
    const priority = priorityOf(labels, project.priorityLabels);
    const result = await tx.createOrFollowUp(
      {
        teamId: project.teamId,
        projectId: project.id,
        repository: project.repository,
        issueNumber: issue.number,
        title: String(issue.title ?? ''),
        priority,
        deliveryId: delivery.deliveryId,
      },
      true,
      String(body.sender?.login ?? ''),
    );
    if (result === 'created') created.push({ projectId: project.id, priority });
    return `issue #${issue.number}: ${result}`;
  }
}

// The highest priority label on the issue; without one, the `normal` label's priority (or 50).
export function priorityOf(labels: string[], priorities: Array<{ label: string; priority: number }>): number {
  const matched = priorities.filter((p) => labels.includes(p.label)).map((p) => p.priority);
  if (matched.length > 0) return Math.max(...matched);
  return priorities.find((p) => p.label === 'normal')?.priority ?? 50;
}
