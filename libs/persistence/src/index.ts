export * from './create-data-source';
export * from './run-migrations';
export * from './persistence.module';
export * from './app-write-lock';
export * from './dependency-error';
export * from './constraint-violation';
export * from './unstorable-text-error';
export * from './cache';
