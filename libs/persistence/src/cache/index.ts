export * from './cache-config';
export * from './cache-keys';
export * from './cache.module';
export * from './leveled-cache';
