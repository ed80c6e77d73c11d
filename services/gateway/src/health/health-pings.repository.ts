import { Inject, Injectable } from '@nestjs/common';
import { HealthPing, type commonV1, type ServiceName } from '@overskill/contracts';
import { NatsRpcClient } from '@overskill/messaging';
import { GATEWAY_ENV, type GatewayEnv } from '../config';

// Another service's own health, asked over NATS (any replica answers).
@Injectable()
export class HealthPingsRepository {
  constructor(
    private readonly rpc: NatsRpcClient,
    @Inject(GATEWAY_ENV) private readonly env: Pick<GatewayEnv, 'HEALTH_PING_TIMEOUT_MS'>,
  ) {}

  ping(service: ServiceName): Promise<commonV1.HealthPingResponse> {
    return this.rpc.send(HealthPing[service], {}, { timeoutMs: this.env.HEALTH_PING_TIMEOUT_MS });
  }
}
