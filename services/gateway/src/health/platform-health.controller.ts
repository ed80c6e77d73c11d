import { Controller, Get, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { PlatformHealthService } from './platform-health.service';

// The seeds' /health and /health/detailed: 200 when everything is up, 503 naming what is not.
@Controller('health')
export class PlatformHealthController {
  constructor(private readonly health: PlatformHealthService) {}

  @Get()
  async summary(@Res() reply: FastifyReply) {
    const report = await this.health.summary();
    return reply.status(report.status === 'ok' ? 200 : 503).send(report);
  }

  @Get('detailed')
  async detailed(@Res() reply: FastifyReply) {
    const report = await this.health.detailed();
    return reply.status(report.status === 'ok' ? 200 : 503).send(report);
  }
}
