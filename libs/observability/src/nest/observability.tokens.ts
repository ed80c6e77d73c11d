// String tokens (not symbols) so two copies of this library in one process still agree.
export const SERVICE_METRICS = 'overskill:observability:service-metrics';
export const LOGGER = 'overskill:observability:logger';
export const OBSERVABILITY_OPTIONS = 'overskill:observability:options';
