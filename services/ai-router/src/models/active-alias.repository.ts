import { Inject, Injectable } from '@nestjs/common';
import { REDIS } from '@overskill/persistence';
import type Redis from 'ioredis';

const ACTIVE_ALIAS_KEY = 'ai:model:active-alias';

// The runtime model switch, shared by every replica through Redis.
@Injectable()
export class ActiveAliasRepository {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  async get(): Promise<string | null> {
    return this.redis.get(ACTIVE_ALIAS_KEY);
  }

  /** Sets the alias (null = back to primary) and returns the previous one. */
  async set(alias: string | null): Promise<string | null> {
    if (alias === null) return this.redis.getdel(ACTIVE_ALIAS_KEY);
    return this.redis.set(ACTIVE_ALIAS_KEY, alias, 'GET');
  }
}
