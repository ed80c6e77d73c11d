export * from './service-env';
export * from './bootstrap-service';
