import { type DynamicModule, Module } from '@nestjs/common';
import { HealthController } from '../health/health.controller';
import { HealthRegistry } from '../health/health-registry';
import type { ObservabilityModuleOptions } from './observability-module-options';
import { LOGGER, OBSERVABILITY_OPTIONS, SERVICE_METRICS } from './observability.tokens';

/** Global: any module can inject HealthRegistry, SERVICE_METRICS and LOGGER without importing this one. */
@Module({})
export class ObservabilityModule {
  static forRoot(options: ObservabilityModuleOptions): DynamicModule {
    return {
      module: ObservabilityModule,
      global: true,
      controllers: options.healthRoutes === false ? [] : [HealthController],
      providers: [
        { provide: OBSERVABILITY_OPTIONS, useValue: options },
        { provide: LOGGER, useValue: options.logger },
        { provide: SERVICE_METRICS, useValue: options.metrics },
        HealthRegistry,
      ],
      exports: [HealthRegistry, LOGGER, SERVICE_METRICS, OBSERVABILITY_OPTIONS],
    };
  }
}
