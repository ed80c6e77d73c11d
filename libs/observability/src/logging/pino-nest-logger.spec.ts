import { Logger } from '@nestjs/common';
import pino from 'pino';
import { Writable } from 'node:stream';
import { PinoNestLogger } from './pino-nest-logger';

function pinoInto(lines: Record<string, unknown>[]): pino.Logger {
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      callback();
    },
  });
  return pino({ level: 'trace', base: undefined, timestamp: false, formatters: { level: (label) => ({ level: label }) } }, stream);
}

describe('PinoNestLogger', () => {
  it('maps Nest levels to pino levels and the trailing context to the component', () => {
    const lines: Record<string, unknown>[] = [];
    const logger = new PinoNestLogger(pinoInto(lines));

    logger.log('Nest application successfully started', 'NestApplication');
    logger.verbose('mapped route', 'RoutesResolver');
    logger.debug('detail');
    logger.warn('slow', 'Scheduler');
    logger.fatal('giving up', 'Main');

    expect(lines).toEqual([
      { level: 'info', msg: 'Nest application successfully started', component: 'NestApplication' },
      { level: 'trace', msg: 'mapped route', component: 'RoutesResolver' },
      { level: 'debug', msg: 'detail' },
      { level: 'warn', msg: 'slow', component: 'Scheduler' },
      { level: 'fatal', msg: 'giving up', component: 'Main' },
    ]);
  });

  it("writes Nest's start-up inventory of modules and routes at debug", () => {
    const lines: Record<string, unknown>[] = [];
    const logger = new PinoNestLogger(pinoInto(lines));

    logger.log('AppModule dependencies initialized', 'InstanceLoader');
    logger.log('Mapped {/health/live, GET} route', 'RouterExplorer');
    logger.log('HealthController {/}:', 'RoutesResolver');
    logger.warn('odd route', 'RouterExplorer');

    expect(lines.map((l) => l.level)).toEqual(['debug', 'debug', 'debug', 'warn']);
  });

  it('keeps the stack and context Nest passes to error()', () => {
    const lines: Record<string, unknown>[] = [];
    const nestLogger = new PinoNestLogger(pinoInto(lines));
    const stack = new Error('boom').stack!;

    // What Nest's own Logger does for `new Logger('ExceptionsHandler').error(message, stack)`.
    nestLogger.error('boom', stack, 'ExceptionsHandler');
    nestLogger.error('no stack', undefined, 'RoutesResolver');

    expect(lines[0]).toEqual({ level: 'error', msg: 'boom', stack, component: 'ExceptionsHandler' });
    expect(lines[1]).toEqual({ level: 'error', msg: 'no stack', component: 'RoutesResolver' });
  });

  it('logs objects as fields and errors under err', () => {
    const lines: Record<string, unknown>[] = [];
    const logger = new PinoNestLogger(pinoInto(lines));

    logger.log({ msg: 'structured', runId: 'r-1' }, 'Runs');
    logger.error(new Error('exploded'), 'Runs');

    expect(lines[0]).toEqual({ level: 'info', msg: 'structured', runId: 'r-1', component: 'Runs' });
    expect(lines[1]).toMatchObject({ level: 'error', msg: 'exploded', component: 'Runs', err: { type: 'Error', message: 'exploded' } });
  });

  it('receives what Nest Logger instances write once installed as the app logger', () => {
    const lines: Record<string, unknown>[] = [];
    Logger.overrideLogger(new PinoNestLogger(pinoInto(lines)));
    try {
      new Logger('RunsService').log('run started');
    } finally {
      Logger.overrideLogger(false);
    }
    expect(lines).toEqual([{ level: 'info', msg: 'run started', component: 'RunsService' }]);
  });
});
