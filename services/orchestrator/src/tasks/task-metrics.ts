import { Inject, Injectable } from '@nestjs/common';
import { SERVICE_METRICS, type ServiceMetrics } from '@overskill/observability';
import { Counter, Gauge, Histogram } from 'prom-client';
import { TasksRepository } from './tasks.repository';

// The seed's "task queue size and processing rate": the queue read from Postgres at each scrape
// (every replica reports the same numbers; the backlog alert takes one per project), tasks
// created by project, priority and source.
@Injectable()
export class TaskMetrics {
  private readonly created: Counter<'project' | 'priority' | 'source'>;
  private readonly finished: Counter<'project' | 'priority' | 'outcome'>;
  private readonly duration: Histogram<'outcome'>;

  constructor(@Inject(SERVICE_METRICS) metrics: ServiceMetrics, tasks: TasksRepository) {
    const registers = [metrics.registry];
    new Gauge({
      name: 'task_queue_size',
      help: 'Tasks queued per project',
      labelNames: ['project'],
      registers,
      async collect() {
        const rows = await tasks.queuedByProject();
        this.reset();
        for (const row of rows) this.set({ project: row.projectId }, row.queued);
      },
    });
    this.finished = new Counter({
      name: 'tasks_finished_total',
      help: 'Tasks finished, by project, priority and outcome (completed, failed, cancelled)',
      labelNames: ['project', 'priority', 'outcome'],
      registers,
    });
    this.duration = new Histogram({
      name: 'task_duration_seconds',
      help: 'From a task first starting to its end, by outcome',
      labelNames: ['outcome'],
      buckets: [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600],
      registers,
    });
    this.created = new Counter({
      name: 'tasks_created_total',
      help: 'Tasks created, by project, priority and source (webhook, poll)',
      labelNames: ['project', 'priority', 'source'],
      registers,
    });
  }

  taskCreated(projectId: string, priority: number, source: 'webhook' | 'poll'): void {
    this.created.inc({ project: projectId, priority: String(priority), source });
  }

  taskFinished(projectId: string, priority: number, outcome: string, seconds: number): void {
    this.finished.inc({ project: projectId, priority: String(priority), outcome });
    this.duration.observe({ outcome }, seconds);
  }
}
