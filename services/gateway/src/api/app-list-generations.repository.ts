import { Inject, Injectable } from '@nestjs/common';
import { cacheKeys, generationToken, REDIS } from '@overskill/persistence';
import type { Redis } from 'ioredis';

// A generation started here lives a day; the orchestrator replaces it on every change to the
// team's apps. An expired one only costs each replica one miss.
const GENERATION_TTL_SECONDS = 24 * 60 * 60;

// The current generation of each team's app list, shared by every gateway replica and replaced by
// the orchestrator after each write to the team's apps.
@Injectable()
export class AppListGenerationsRepository {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  // One round trip for any number of teams. A team without a generation gets a fresh one
  // (SET NX GET), so the answer is always the one in Redis now.
  async current(teamIds: string[]): Promise<string[]> {
    if (this.redis.status !== 'ready') throw new Error('redis not ready');
    const offers = teamIds.map((teamId) => ({ teamId, fresh: generationToken() }));
    const pipeline = this.redis.pipeline();
    for (const { teamId, fresh } of offers) pipeline.set(cacheKeys.teamAppsGeneration(teamId), fresh, 'EX', GENERATION_TTL_SECONDS, 'NX', 'GET');
    const replies = (await pipeline.exec()) ?? [];
    return offers.map(({ fresh }, i) => {
      const [err, previous] = replies[i] ?? [new Error('no reply')];
      if (err) throw err;
      return typeof previous === 'string' ? previous : fresh;
    });
  }
}
