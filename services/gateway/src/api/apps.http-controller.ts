import { Body, Controller, Get, HttpCode, Param, Post, Query, Req, UseGuards } from '@nestjs/common';
import { ApiKeyGuard, type AuthenticatedRequest } from '../keys/api-key.guard';
import { PlatformApiService } from './platform-api.service';
import { createAppBody, listAppsQuery, parseInput, postMessageBody } from './request-schemas';

@Controller('api')
@UseGuards(ApiKeyGuard)
export class AppsHttpController {
  constructor(private readonly api: PlatformApiService) {}

  @Post('apps')
  @HttpCode(201)
  createApp(@Req() req: AuthenticatedRequest, @Body() body: unknown) {
    return this.api.createApp(req.principal, parseInput(createAppBody, body, 'body'));
  }

  @Get('apps')
  listApps(@Req() req: AuthenticatedRequest, @Query() query: unknown) {
    return this.api.listApps(req.principal, parseInput(listAppsQuery, query, 'query'));
  }

  @Get('apps/:appId')
  getApp(@Req() req: AuthenticatedRequest, @Param('appId') appId: string) {
    return this.api.getApp(req.principal, appId);
  }

  @Post('apps/:appId/messages')
  @HttpCode(202)
  postMessage(@Req() req: AuthenticatedRequest, @Param('appId') appId: string, @Body() body: unknown) {
    return this.api.postMessage(req.principal, appId, parseInput(postMessageBody, body, 'body').content);
  }

  @Get('runs/:runId')
  getRun(@Req() req: AuthenticatedRequest, @Param('runId') runId: string) {
    return this.api.getRun(req.principal, runId);
  }
}
