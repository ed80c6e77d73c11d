import type { LoggerService, LogLevel } from '@nestjs/common';
import type pino from 'pino';

type PinoMethod = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';

const NEST_TO_PINO: Record<LogLevel, PinoMethod> = {
  fatal: 'fatal',
  error: 'error',
  warn: 'warn',
  log: 'info',
  debug: 'debug',
  verbose: 'trace',
};

const STACK_TRACE = /\n\s+at /;

// Nest's start-up inventory (a line per module, controller and route: ~100 lines, 15-80 ms of a
// service's start) is debug detail, not news for whoever reads the info log.
const START_UP_INVENTORY = new Set(['InstanceLoader', 'RoutesResolver', 'RouterExplorer']);

/** Lets Nest's own Logger (app.useLogger) write through pino; Nest's context becomes the line's `component`. */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly logger: pino.Logger) {}

  log(message: unknown, ...optionalParams: unknown[]): void {
    this.write('log', message, optionalParams);
  }

  error(message: unknown, ...optionalParams: unknown[]): void {
    this.write('error', message, optionalParams);
  }

  warn(message: unknown, ...optionalParams: unknown[]): void {
    this.write('warn', message, optionalParams);
  }

  debug(message: unknown, ...optionalParams: unknown[]): void {
    this.write('debug', message, optionalParams);
  }

  verbose(message: unknown, ...optionalParams: unknown[]): void {
    this.write('verbose', message, optionalParams);
  }

  fatal(message: unknown, ...optionalParams: unknown[]): void {
    this.write('fatal', message, optionalParams);
  }

  // Nest calls log(message, context) and error(message, stack?, context); a Logger with a context
  // always appends it last, so the last string is the context unless it is a stack trace.
  private write(level: LogLevel, message: unknown, params: unknown[]): void {
    const fields: Record<string, unknown> = {};
    const rest = [...params];
    const last = rest[rest.length - 1];
    if (typeof last === 'string' && !STACK_TRACE.test(last)) {
      fields['component'] = last;
      rest.pop();
    }
    const extra: unknown[] = [];
    for (const param of rest) {
      if (param === undefined) continue;
      if (typeof param === 'string' && STACK_TRACE.test(param)) fields['stack'] = param;
      else if (param instanceof Error) fields['err'] = param;
      else extra.push(param);
    }
    if (extra.length > 0) fields['params'] = extra;

    const method = level === 'log' && START_UP_INVENTORY.has(fields['component'] as string) ? 'debug' : NEST_TO_PINO[level];
    if (message instanceof Error) {
      this.logger[method]({ ...fields, err: message }, message.message);
    } else if (message !== null && typeof message === 'object') {
      this.logger[method]({ ...fields, ...(message as Record<string, unknown>) });
    } else {
      this.logger[method](fields, String(message));
    }
  }
}
