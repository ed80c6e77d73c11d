import { Module } from '@nestjs/common';
import { ApiKeyGuard } from '../keys/api-key.guard';
import { ApiKeysRepository } from '../keys/api-keys.repository';
import { ApiKeysService } from '../keys/api-keys.service';
import { AiAdminHttpController } from './ai-admin.http-controller';
import { LlmGatewayService } from './llm-gateway.service';
import { MessagesHttpController } from './messages.http-controller';

// The Anthropic-compatible endpoint and the router's admin routes. The guard's dependencies are
// listed here because GatewayModule does not export them (the lead re-wires auth on merge).
@Module({
  controllers: [MessagesHttpController, AiAdminHttpController],
  providers: [LlmGatewayService, ApiKeyGuard, ApiKeysService, ApiKeysRepository],
})
export class LlmModule {}
