import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { SERVICE_METRICS, type ServiceMetrics } from '@overskill/observability';
import { Gauge } from 'prom-client';
import { AggregatesRepository } from '../aggregates/aggregates.repository';
import { utcDay } from '../aggregates/fact-contributions';
import { businessFigures, WEIGHTED_METRICS, type Figures } from './business-figures';
import { COST_MODEL } from './business.service';
import type { CostModel } from './cost-model';

// Scrapes within this long share one read of today's aggregates.
const SNAPSHOT_MS = 5000;

const GAUGES: Array<{ name: string; help: string; value: (f: Figures) => number }> = [
  { name: 'overskill_business_apps_created_today', help: 'Apps created today (UTC), every team', value: (f) => f.appsCreated },
  { name: 'overskill_business_active_users_today', help: 'API keys that acted today (UTC), every team', value: (f) => f.activeUsers },
  { name: 'overskill_business_ai_requests_today', help: 'Model calls today (UTC), every team', value: (f) => f.aiRequests },
  { name: 'overskill_business_ai_tokens_today', help: 'Model tokens (input and output) today (UTC), every team', value: (f) => f.aiTokens },
  { name: 'overskill_business_ai_cost_dollars_today', help: 'Model spend in USD today (UTC), every team', value: (f) => f.aiCostUsd },
  { name: 'overskill_business_cache_hit_ratio_today', help: 'Model calls answered by the response cache today (UTC), 0 to 1', value: (f) => f.cacheHitRate },
  { name: 'overskill_business_tool_calls_today', help: 'Tool calls today (UTC), every team', value: (f) => f.toolCalls },
  { name: 'overskill_business_tool_failures_today', help: 'Tool calls that failed today (UTC), every team', value: (f) => f.toolFailures },
  { name: 'overskill_business_infra_cost_dollars_today', help: "Today's infrastructure cost share in USD from the cost model", value: (f) => f.infraCostUsd },
];

// The business figures of today as Prometheus gauges, read from the aggregates at scrape time.
@Injectable()
export class BusinessMetrics implements OnModuleInit {
  private snapshot?: { at: number; figures: Promise<Figures> };

  constructor(
    @Inject(SERVICE_METRICS) private readonly metrics: ServiceMetrics,
    private readonly aggregates: AggregatesRepository,
    @Inject(COST_MODEL) private readonly costModel: CostModel,
  ) {}

  onModuleInit(): void {
    for (const g of GAUGES) {
      if (this.metrics.registry.getSingleMetric(g.name)) continue;
      const figures = () => this.today();
      new Gauge({
        name: g.name,
        help: g.help,
        registers: [this.metrics.registry],
        async collect() {
          this.set(g.value(await figures()));
        },
      });
    }
  }

  private today(): Promise<Figures> {
    const now = Date.now();
    if (!this.snapshot || now - this.snapshot.at > SNAPSHOT_MS) {
      const day = utcDay(new Date(now));
      const figures = Promise.all([this.aggregates.rows(null, day, day), this.aggregates.platformActivity(day, day, WEIGHTED_METRICS)]).then(
        ([rows, platform]) => businessFigures([day], rows, platform, this.costModel).totals,
      );
      this.snapshot = { at: now, figures };
      // A failed read is not kept: the next scrape tries again.
      figures.catch(() => (this.snapshot = undefined));
    }
    return this.snapshot.figures;
  }
}
