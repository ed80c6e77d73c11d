import { Inject, Injectable } from '@nestjs/common';
import { AppError, ErrorCode, toolV1, type Rpc } from '@overskill/contracts';
import { encodedOnce, type RpcReply, type RpcRequest } from '@overskill/messaging';
import { LOGGER, SERVICE_METRICS, type ServiceMetrics } from '@overskill/observability';
import { AppWriteLock, LeveledCache } from '@overskill/persistence';
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import type { Logger } from 'pino';
import { Counter, Histogram } from 'prom-client';
import { enabledTools } from '../catalog/tool-catalog';
import type { ToolContext, ToolDefinition, ToolDependencies, ToolLimits } from '../catalog/tool-definition';
import { TOOL_RUNNER_ENV, type ToolRunnerEnv } from '../config';
import { assertAppId } from '../workspace/resolve-workspace-path';
import { WorkspaceReader, WorkspaceWriter } from '../workspace/workspace';
import { toFilesystemAppError } from '../workspace/filesystem-error';
import { WorkspaceFilesRepository } from '../workspace/workspace-files.repository';
import { TOOL_DEPENDENCIES } from './tool-dependencies';
import { toolLimits } from './tool-limits';

interface CompiledTool {
  def: ToolDefinition<never>;
  description: string;
  schema: Record<string, unknown>;
  // Compiled on the tool's first call: all of them at start cost ~140 ms of CPU.
  validate?: ValidateFunction;
}

// "/path must be string" reads better to a model as "path must be string".
function describeProblem(e: ErrorObject): string {
  const where = e.instancePath ? e.instancePath.slice(1).replace(/\//g, '.') : 'input';
  if (e.keyword === 'additionalProperties') return `${where} has an unknown property "${(e.params as { additionalProperty: string }).additionalProperty}"`;
  if (e.keyword === 'enum')
    return `${where} must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
  return `${where} ${e.message}`;
}

@Injectable()
export class ToolExecutionService {
  private readonly tools = new Map<string, CompiledTool>();
  private readonly ajv = new Ajv({ allErrors: true, strict: true });
  private readonly limits: ToolLimits;
  private readonly executions: Counter<'tool' | 'outcome'>;
  private readonly duration: Histogram<'tool' | 'outcome'>;
  // The tools are fixed at boot, so is the catalog: built and encoded once, the same for every caller.
  private readonly catalogReply: RpcReply<typeof Rpc.toolCatalogList>;

  constructor(
    @Inject(TOOL_RUNNER_ENV) private readonly env: ToolRunnerEnv,
    private readonly files: WorkspaceFilesRepository,
    private readonly lock: AppWriteLock,
    @Inject(TOOL_DEPENDENCIES) private readonly deps: ToolDependencies,
    @Inject(SERVICE_METRICS) metrics: ServiceMetrics,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly cache: LeveledCache,
  ) {
    this.limits = toolLimits(env);
    for (const def of enabledTools(env.TOOLS_ENABLED)) {
      const schema = def.inputSchema(this.limits);
      this.tools.set(def.name, { def, schema, description: def.description(this.limits) });
    }
    this.catalogReply = encodedOnce(toolV1.CatalogListResponseSchema, {
      tools: [...this.tools.values()].map(({ def, description, schema }) => ({ name: def.name, description, inputSchemaJson: JSON.stringify(schema) })),
    });
    this.executions = new Counter({
      name: 'tool_executions_total',
      help: 'Tool executions by tool and outcome',
      labelNames: ['tool', 'outcome'],
      registers: [metrics.registry],
    });
    this.duration = new Histogram({
      name: 'tool_execution_duration_seconds',
      help: 'Tool execution time',
      labelNames: ['tool', 'outcome'],
      buckets: [0.001, 0.005, 0.02, 0.1, 0.5, 2, 10, 60],
      registers: [metrics.registry],
    });
  }

  catalog(): RpcReply<typeof Rpc.toolCatalogList> {
    return this.catalogReply;
  }

  // A tool failure is a result the model can read and correct, not an RPC error.
  async execute(req: RpcRequest<typeof Rpc.toolCallExecute>): Promise<RpcReply<typeof Rpc.toolCallExecute>> {
    const started = performance.now();
    // Metric labels only take catalog names: a model inventing names must not grow the series.
    const label = this.tools.has(req.name) ? req.name : 'unknown';
    let outcome = 'ok';
    let output = '';
    let bytesWritten = 0;
    let reply: RpcReply<typeof Rpc.toolCallExecute>;
    try {
      const result = await this.run(req);
      output = result.output;
      bytesWritten = result.bytesWritten ?? 0;
      reply = { toolUseId: req.toolUseId, output: this.truncate(output), isError: false, errorCode: '', bytesWritten: BigInt(bytesWritten) };
    } catch (caught) {
      const err = toFilesystemAppError(caught) ?? caught;
      outcome = err instanceof AppError ? err.code : ErrorCode.INTERNAL;
      if (!(err instanceof AppError)) this.logger.error({ err, tool: req.name, appId: req.appId }, 'tool failed unexpectedly');
      const message = err instanceof AppError ? err.message : 'The tool failed unexpectedly; the error was logged';
      output = `Error ${outcome}: ${message}`;
      reply = { toolUseId: req.toolUseId, output: this.truncate(output), isError: true, errorCode: outcome, bytesWritten: 0n };
    }
    const seconds = (performance.now() - started) / 1000;
    this.executions.inc({ tool: label, outcome });
    this.duration.observe({ tool: label, outcome }, seconds);
    const facts = {
      teamId: req.teamId,
      appId: req.appId,
      runId: req.runId,
      toolUseId: req.toolUseId,
      tool: label === 'unknown' ? req.name.slice(0, 64) : label,
      outcome,
      durationMs: seconds * 1000,
      bytesWritten: BigInt(bytesWritten),
      outputBytes: BigInt(Buffer.byteLength(output)),
      outputTruncated: output.length > this.env.TOOL_MAX_RESULT_CHARS,
    };
    // The reply does not wait for JetStream; a failed publish is logged, never the tool's failure.
    // Published once the reply is on its way, as nats-server stores the event before it reads on.
    setImmediate(() => {
      this.deps.runEvents.toolExecuted(facts).catch((err: unknown) => this.logger.warn({ err, tool: req.name }, 'tool.executed.v1 was not published'));
    });
    return reply;
  }

  private async run(req: RpcRequest<typeof Rpc.toolCallExecute>) {
    const tool = this.tools.get(req.name);
    if (!tool) throw new AppError(ErrorCode.TOOL_UNKNOWN, `Unknown tool "${req.name}". Available: ${[...this.tools.keys()].join(', ')}`);
    assertAppId(req.appId);
    let input: unknown;
    try {
      input = JSON.parse(req.inputJson || '{}');
    } catch {
      throw new AppError(ErrorCode.TOOL_INPUT_INVALID, 'The tool input is not valid JSON');
    }
    const validate = (tool.validate ??= this.ajv.compile(tool.schema));
    if (!validate(input)) {
      const problems = (validate.errors ?? []).map(describeProblem).join('; ');
      throw new AppError(ErrorCode.TOOL_INPUT_INVALID, `Invalid input for ${req.name}: ${problems}`);
    }
    return tool.def.run(input as never, this.contextFor(req));
  }

  private contextFor(req: RpcRequest<typeof Rpc.toolCallExecute>): ToolContext {
    const { WORKSPACES_DIR, TOOL_MAX_FILE_SIZE_BYTES, TOOL_LOCK_WAIT_MS } = this.env;
    const teamCache = { cache: this.cache, teamId: req.teamId };
    return {
      call: { teamId: req.teamId, appId: req.appId, runId: req.runId, toolUseId: req.toolUseId },
      limits: this.limits,
      workspace: new WorkspaceReader(this.files, WORKSPACES_DIR, req.appId, TOOL_MAX_FILE_SIZE_BYTES, teamCache),
      withWriteLock: (work) =>
        this.lock.withLock(req.appId, (lease) => work(new WorkspaceWriter(this.files, WORKSPACES_DIR, req.appId, TOOL_MAX_FILE_SIZE_BYTES, lease, teamCache)), {
          waitMs: TOOL_LOCK_WAIT_MS,
        }),
      deps: this.deps,
    };
  }

  private truncate(output: string): string {
    const max = this.env.TOOL_MAX_RESULT_CHARS;
    if (output.length <= max) return output;
    return `${output.slice(0, max)}\n[truncated: showing ${max} of ${output.length} characters (${Buffer.byteLength(output)} bytes)]`;
  }
}
