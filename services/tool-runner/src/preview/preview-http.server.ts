import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { AppError, ErrorCode, errorHttpStatus } from '@overskill/contracts';
import { LOGGER } from '@overskill/observability';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { TOOL_RUNNER_ENV, type ToolRunnerEnv } from '../config';
import { CaptureIngestService } from './capture-ingest.service';
import { DevPreviewRouter } from './dev-server/dev-preview.router';
import { DevServerService } from './dev-server/dev-server.service';
import { INGEST_PATH } from './capture-script';
import { PreviewService } from './preview.service';

const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: ErrorCode.PAYLOAD_TOO_LARGE,
  FST_ERR_CTP_INVALID_MEDIA_TYPE: ErrorCode.UNSUPPORTED_MEDIA_TYPE,
  FST_ERR_CTP_EMPTY_JSON_BODY: ErrorCode.VALIDATION_FAILED,
  FST_ERR_BAD_URL: ErrorCode.PREVIEW_PATH_INVALID,
};

// The preview origin's own listener (PREVIEW_PORT): files by Host header, and the capture
// ingest. Thin: the services decide, this only speaks HTTP.
@Injectable()
export class PreviewHttpServer implements OnApplicationBootstrap, OnApplicationShutdown {
  private server?: FastifyInstance;

  constructor(
    private readonly previews: PreviewService,
    private readonly ingest: CaptureIngestService,
    private readonly devRouter: DevPreviewRouter,
    private readonly devServers: DevServerService,
    @Inject(TOOL_RUNNER_ENV) private readonly env: Pick<ToolRunnerEnv, 'PREVIEW_PORT' | 'HOST' | 'PREVIEW_INGEST_MAX_BYTES' | 'PREVIEW_INTERNAL_URL'>,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const server = Fastify({
      logger: false,
      bodyLimit: this.env.PREVIEW_INGEST_MAX_BYTES,
      maxParamLength: 1024,
      // A URL Fastify cannot even route (bad percent-encoding) gets the same error shape.
      frameworkErrors: (err, _req, reply) => this.fail(reply, err),
      // Dev-server previews (HTTP and the HMR websocket) are proxied before Fastify parses anything.
      serverFactory: (handler) => {
        const http = createServer((req, res) => {
          this.devRouter.handle(req, res).then(
            (handled) => handled || handler(req, res),
            (err: unknown) => {
              this.logger.error({ err }, 'dev-server preview request failed');
              if (!res.headersSent) handler(req, res);
            },
          );
        });
        http.on('upgrade', (req, socket, head: Buffer) => void this.devRouter.upgrade(req, socket, head));
        return http;
      },
    });
    // Batches come as text/plain (sendBeacon) or JSON; either way the raw text is parsed later.
    server.removeAllContentTypeParsers();
    server.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body));
    server.setErrorHandler((err, _req, reply) => this.fail(reply, err));
    server.setNotFoundHandler((req, reply) => this.fail(reply, new AppError(ErrorCode.ROUTE_NOT_FOUND, `${req.method} is not served by a preview`)));

    server.post(INGEST_PATH, async (req, reply) => {
      const result = await this.ingest.ingest(req.headers.host, req.headers.origin, typeof req.body === 'string' ? req.body : '');
      return reply.status(202).header('cache-control', 'no-cache').send(result);
    });
    server.route({
      method: ['GET', 'HEAD'],
      url: '/*',
      handler: async (req, reply) => {
        const res = await this.previews.serve(req.headers.host, req.url, req.headers.accept);
        return reply.status(res.status).headers(res.headers).send(res.body);
      },
    });
    await server.listen({ port: this.env.PREVIEW_PORT, host: this.env.HOST });
    this.server = server;
    this.devServers.setListener(this.env.PREVIEW_INTERNAL_URL ?? `http://127.0.0.1:${(server.server.address() as AddressInfo).port}`);
    this.logger.info({ port: this.env.PREVIEW_PORT }, 'preview listener ready');
  }

  async onApplicationShutdown(): Promise<void> {
    await this.server?.close();
  }

  private fail(reply: FastifyReply, err: unknown): FastifyReply {
    const fastifyCode = (err as { code?: string })?.code;
    const appError =
      err instanceof AppError
        ? err
        : fastifyCode && FASTIFY_CODES[fastifyCode]
          ? new AppError(
              FASTIFY_CODES[fastifyCode],
              fastifyCode === 'FST_ERR_CTP_BODY_TOO_LARGE'
                ? `A capture batch is at most ${this.env.PREVIEW_INGEST_MAX_BYTES} bytes`
                : String((err as Error).message),
            )
          : undefined;
    if (!appError) this.logger.error({ err }, 'preview request failed');
    const code = appError?.code ?? ErrorCode.INTERNAL;
    const message = appError?.message ?? 'The preview could not be served; the error was logged';
    return reply.status(errorHttpStatus[code]).header('cache-control', 'no-cache').type('application/json; charset=utf-8').send({ code, message });
  }
}
