import { AppError, ErrorCode } from '@overskill/contracts';
import type { Logger } from 'pino';
import { orchestratorEnvSchema } from '../config';
import type { GitHubRepository } from '../github/github.repository';
import type { GitHubDeliveryEntity, ProjectEntity, TaskEntity } from '../persistence/entities';
import type { ProjectsService } from '../projects/projects.service';
import type { FollowUpsRepository, FollowUpWriter } from '../task-follow-ups/follow-ups.repository';
import { FollowUpsService } from '../task-follow-ups/follow-ups.service';
import { GitHubDeliveriesService } from './github-deliveries.service';
import type { TaskMetrics } from './task-metrics';
import type { TaskQueueRepository } from './task-queue.repository';
import type { TaskWriter, TasksRepository } from './tasks.repository';

// A comment delivery for a repository that two teams' projects track: the permission check runs
// per project with that project's credentials, and one project's refused credentials answer for
// that project alone instead of holding the delivery for the other.
describe('GitHubDeliveriesService with mocked repositories', () => {
  const env = orchestratorEnvSchema.parse({ DATABASE_URL: 'postgres://u:p@127.0.0.1:5432/db' });
  const project = (id: string, teamId: string): ProjectEntity =>
    ({ id, teamId, repository: 'acme/shop', labels: { trigger: 'overskill' } }) as unknown as ProjectEntity;
  const revoked = project('p-revoked', 'team-a');
  const working = project('p-working', 'team-b');
  // Sealed with a key this orchestrator does not hold under that id.
  const unreadable = project('p-unreadable', 'team-c');
  const delivery = {
    deliveryId: 'd-1',
    event: 'issue_comment',
    action: 'created',
    repository: 'acme/shop',
    processedAt: null,
    payload: { action: 'created', issue: { number: 7 }, comment: { id: 42, body: 'Make it red', user: { login: 'alice', type: 'User' } } },
  } as unknown as GitHubDeliveryEntity;
  const taskOf = (projectId: string) => ({ id: `task-of-${projectId}`, projectId, status: 'completed' }) as unknown as TaskEntity;

  let permission: jest.Mock;
  let added: string[];
  let warnings: Array<{ reason: string }>;
  let outcome: string | undefined;
  let service: GitHubDeliveriesService;

  beforeEach(() => {
    added = [];
    warnings = [];
    outcome = undefined;
    permission = jest.fn(async (auth: { token: string }) => {
      if (auth.token === 'revoked') throw new AppError(ErrorCode.GITHUB_AUTH_FAILED, 'GitHub refused the credentials (Bad credentials)');
      return 'write';
    });
    const writer = {
      target: async (projectId: string) => taskOf(projectId),
      add: async (task: TaskEntity) => (added.push(task.id), 'added'),
    } as unknown as FollowUpWriter;
    const tasks = {
      findDelivery: async () => delivery,
      projectsFor: async () => [revoked, unreadable, working],
      processDelivery: async (_id: string, work: (d: GitHubDeliveryEntity, tx: TaskWriter) => Promise<string>) => {
        outcome = await work(delivery, { followUps: () => writer } as unknown as TaskWriter);
        return outcome;
      },
    } as unknown as TasksRepository;
    const followUps = new FollowUpsService(
      env,
      { collaboratorPermission: permission } as unknown as GitHubRepository,
      {
        authOf: (p: ProjectEntity) => {
          if (p === unreadable) throw new AppError(ErrorCode.PROJECT_SECRETS_NOT_CONFIGURED, 'A stored credential does not open with key k1');
          return { kind: 'token', token: p === revoked ? 'revoked' : 'valid' };
        },
      } as unknown as ProjectsService,
      { target: async (projectId: string) => taskOf(projectId) } as unknown as FollowUpsRepository,
    );
    service = new GitHubDeliveriesService(tasks, {} as TaskQueueRepository, { taskCreated: jest.fn() } as unknown as TaskMetrics, followUps, {
      info: () => undefined,
      warn: (fields: { reason: string }) => warnings.push(fields),
    } as unknown as Logger);
  });

  it('continues the task of the project whose credentials work and says why the other was not checked', async () => {
    await service.process('d-1');
    expect(permission).toHaveBeenCalledTimes(2);
    expect(added).toEqual(['task-of-p-working']);
    expect(outcome?.match(/@alice's permission could not be checked with this project's credentials, ignored/g)).toHaveLength(2);
    expect(warnings.map((w) => w.reason)).toEqual(['GitHub refused the credentials (Bad credentials)', 'A stored credential does not open with key k1']);
    expect(outcome).toContain('follow-up of task task-of-p-working added');
  });

  it('leaves the delivery unprocessed, to be tried again, while GitHub cannot be reached', async () => {
    permission.mockImplementation(async () => {
      throw new AppError(ErrorCode.GITHUB_UNAVAILABLE, 'GitHub could not be reached: ECONNRESET');
    });
    await expect(service.process('d-1')).rejects.toMatchObject({ code: ErrorCode.GITHUB_UNAVAILABLE });
    expect(outcome).toBeUndefined();
    expect(added).toEqual([]);
  });
});
