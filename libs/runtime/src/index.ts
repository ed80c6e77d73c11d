export * from './service-env';
export * from './bootstrap-service';
export * from './port-leases';
