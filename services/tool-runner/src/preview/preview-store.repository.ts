import { Inject, Injectable } from '@nestjs/common';
import type { toolV1 } from '@overskill/contracts';
import { REDIS } from '@overskill/persistence';
import type Redis from 'ioredis';
import { newPreviewId } from './preview-address';

export interface PreviewOwner {
  teamId: string;
  appId: string;
}

// The check's result as it goes over the wire, without protobuf's own fields.
export type StoredCheck = Omit<toolV1.PreviewCheckResult, '$typeName' | '$unknown'>;

const idKey = (previewId: string) => `preview:id:${previewId}`;
const appKey = (appId: string) => `preview:app:${appId}`;
const checkKey = (appId: string) => `preview:check:${appId}`;
const shotKey = (appId: string, sha: string) => `preview:shot:${appId}:${sha}`;

// Preview ids, last checks, screenshots and capture rate counters, in Redis: every replica
// sees a rotation at once, so any replica can serve any preview.
@Injectable()
export class PreviewStoreRepository {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  async resolve(previewId: string): Promise<PreviewOwner | undefined> {
    const raw = await this.redis.get(idKey(previewId));
    return raw ? (JSON.parse(raw) as PreviewOwner) : undefined;
  }

  async previewIdOf(appId: string): Promise<string | undefined> {
    return (await this.redis.get(appKey(appId))) ?? undefined;
  }

  // The app's preview id, made on first ask; two replicas asking at once agree on one.
  async ensure(owner: PreviewOwner): Promise<string> {
    const existing = await this.previewIdOf(owner.appId);
    if (existing) return existing;
    const candidate = newPreviewId();
    await this.redis.set(idKey(candidate), JSON.stringify(owner));
    if (await this.redis.set(appKey(owner.appId), candidate, 'NX')) return candidate;
    await this.redis.del(idKey(candidate));
    return (await this.previewIdOf(owner.appId)) ?? this.ensure(owner);
  }

  async rotate(owner: PreviewOwner): Promise<string> {
    const old = await this.previewIdOf(owner.appId);
    const next = newPreviewId();
    const tx = this.redis.multi().set(idKey(next), JSON.stringify(owner)).set(appKey(owner.appId), next);
    if (old) tx.del(idKey(old));
    await tx.exec();
    return next;
  }

  async saveCheck(appId: string, check: StoredCheck, png: Buffer | undefined, ttlSeconds: number): Promise<void> {
    const tx = this.redis.multi().set(checkKey(appId), JSON.stringify(check));
    if (png) tx.set(shotKey(appId, check.sha), png, 'EX', ttlSeconds);
    await tx.exec();
  }

  async lastCheck(appId: string): Promise<StoredCheck | undefined> {
    const raw = await this.redis.get(checkKey(appId));
    return raw ? (JSON.parse(raw) as StoredCheck) : undefined;
  }

  async screenshot(appId: string, sha: string): Promise<Buffer | undefined> {
    return (await this.redis.getBuffer(shotKey(appId, sha))) ?? undefined;
  }

  // Events counted per preview per minute; the count after adding these.
  async countIngest(previewId: string, events: number): Promise<number> {
    const key = `preview:ingest:${previewId}:${Math.floor(Date.now() / 60_000)}`;
    const [[, count] = [null, 0]] = (await this.redis.multi().incrby(key, events).expire(key, 120).exec()) ?? [];
    return Number(count);
  }
}
