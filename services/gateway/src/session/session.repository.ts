import { Inject, Injectable } from '@nestjs/common';
import { REDIS } from '@overskill/persistence';
import type { Redis } from 'ioredis';

// What a console session remembers: the key by prefix and hash (never the secret), the CSRF
// token the browser must echo on writes, and when it ends.
export interface SessionRecord {
  keyPrefix: string;
  keyHash: string;
  csrfToken: string;
  expiresAt: string;
}

const KEY_PREFIX = 'gateway:session:';

// Sessions live in Redis so every gateway replica sees them and a sign-out is immediate.
@Injectable()
export class SessionRepository {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  async save(idHash: string, record: SessionRecord, ttlSeconds: number): Promise<void> {
    await this.redis.set(KEY_PREFIX + idHash, JSON.stringify(record), 'EX', ttlSeconds);
  }

  async find(idHash: string): Promise<SessionRecord | null> {
    const raw = await this.redis.get(KEY_PREFIX + idHash);
    if (!raw) return null;
    try {
      return JSON.parse(raw) as SessionRecord;
    } catch {
      return null;
    }
  }

  async delete(idHash: string): Promise<void> {
    await this.redis.del(KEY_PREFIX + idHash);
  }
}
