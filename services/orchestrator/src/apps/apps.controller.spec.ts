import 'reflect-metadata';
import { Module, type INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Server, type CustomTransportStrategy, type MessageHandler } from '@nestjs/microservices';
import { ErrorCode, Rpc } from '@overskill/contracts';
import { isLeanRpcHandler, RpcErrorFilter, useLeanRpcHandlers } from '@overskill/messaging';
import pino from 'pino';
import { firstValueFrom, isObservable } from 'rxjs';
import { AppsController } from './apps.controller';
import { AppsService } from './apps.service';
import { requireTeamId } from '../common/team-id.pipe';

// A transport that keeps the handlers Nest makes, so each is called as NatsRpcServer calls it.
class RecordingServer extends Server implements CustomTransportStrategy {
  listen(callback: () => void): void {
    callback();
  }
  close(): void {
    this.messageHandlers.clear();
  }
  on(): void {
    throw new Error('not used here');
  }
  unwrap<T>(): T {
    return undefined as T;
  }
  handler(pattern: string): MessageHandler {
    const h = this.messageHandlers.get(pattern);
    if (!h) throw new Error(`no handler for ${pattern}`);
    return h;
  }
}

const team = '0b7f4c1e-2d3a-4b5c-8d9e-0f1a2b3c4d5e';
// The service's first step, as in AppsService: the team id is checked before anything else.
const apps = {
  list: jest.fn(async (req: { teamId: string }) => {
    requireTeamId(req.teamId);
    return { apps: [], nextPageToken: '' };
  }),
};

async function outcome(result: unknown): Promise<unknown> {
  const value = await result;
  if (!isObservable(value)) return value;
  try {
    return { value: await firstValueFrom(value) };
  } catch (err) {
    return { error: err };
  }
}

@Module({ controllers: [AppsController], providers: [{ provide: AppsService, useValue: apps }] })
class ProbeModule {}

describe('AppsController', () => {
  const server = new RecordingServer();
  let ms: INestMicroservice;

  beforeAll(async () => {
    ms = await NestFactory.createMicroservice(ProbeModule, { strategy: server, logger: false });
    ms.useGlobalFilters(new RpcErrorFilter(pino({ level: 'silent' })));
    useLeanRpcHandlers(ms);
    await ms.init();
  });
  afterAll(() => ms.close());

  it("takes the lean path for every app handler (no pipe, guard or interceptor: Nest's chain is skipped)", () => {
    for (const def of [Rpc.appCreate, Rpc.appGet, Rpc.appList, Rpc.appUpdate, Rpc.appDelete, Rpc.appIdsExist]) {
      expect(isLeanRpcHandler(server.handler(def.subject))).toBe(true);
    }
  });

  it('answers a bad team id from the lean handler with the same code and message the pipe gave', async () => {
    const req = { teamId: team, pageSize: 0, pageToken: '' };
    await expect(outcome(server.handler(Rpc.appList.subject)(req, {}))).resolves.toEqual({ apps: [], nextPageToken: '' });
    expect(apps.list).toHaveBeenCalledWith(req);
    await expect(outcome(server.handler(Rpc.appList.subject)({ teamId: 'team-1', pageSize: 0, pageToken: '' }, {}))).resolves.toEqual({
      error: { code: ErrorCode.VALIDATION_FAILED, message: 'team_id is not a valid team id', details: {} },
    });
  });
});
