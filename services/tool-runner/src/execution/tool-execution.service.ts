import { Inject, Injectable } from '@nestjs/common';
import { AppError, ErrorCode, type Rpc } from '@overskill/contracts';
import type { RpcReply, RpcRequest } from '@overskill/messaging';
import { LOGGER, SERVICE_METRICS, type ServiceMetrics } from '@overskill/observability';
import Ajv, { type ValidateFunction } from 'ajv';
import type { Logger } from 'pino';
import { Counter, Histogram } from 'prom-client';
import { TOOL_CATALOG } from '../catalog/tool-catalog';
import type { ToolDefinition } from '../catalog/tool-definition';
import { TOOL_RUNNER_ENV, type ToolRunnerEnv } from '../config';
import { WorkspaceFilesRepository } from '../workspace/workspace-files.repository';

interface CompiledTool {
  def: ToolDefinition<never>;
  validate: ValidateFunction;
}

@Injectable()
export class ToolExecutionService {
  private readonly tools = new Map<string, CompiledTool>();
  private readonly executions: Counter<'tool' | 'outcome'>;
  private readonly duration: Histogram<'tool' | 'outcome'>;

  constructor(
    @Inject(TOOL_RUNNER_ENV) private readonly env: ToolRunnerEnv,
    private readonly files: WorkspaceFilesRepository,
    @Inject(SERVICE_METRICS) metrics: ServiceMetrics,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    const ajv = new Ajv({ allErrors: true, strict: false });
    for (const def of TOOL_CATALOG) this.tools.set(def.name, { def, validate: ajv.compile(def.inputSchema) });
    this.executions = new Counter({ name: 'tool_executions_total', help: 'Tool executions by tool and outcome', labelNames: ['tool', 'outcome'], registers: [metrics.registry] });
    this.duration = new Histogram({ name: 'tool_execution_duration_seconds', help: 'Tool execution time', labelNames: ['tool', 'outcome'], buckets: [0.001, 0.005, 0.02, 0.1, 0.5, 2, 10], registers: [metrics.registry] });
  }

  catalog(): RpcReply<typeof Rpc.toolCatalogList> {
    return { tools: [...this.tools.values()].map(({ def }) => ({ name: def.name, description: def.description, inputSchemaJson: JSON.stringify(def.inputSchema) })) };
  }

  // A tool failure is a result the model can read and correct, not an RPC error.
  async execute(req: RpcRequest<typeof Rpc.toolCallExecute>): Promise<RpcReply<typeof Rpc.toolCallExecute>> {
    const started = performance.now();
    const tool = this.tools.get(req.name);
    let outcome = 'ok';
    try {
      if (!tool) throw new AppError(ErrorCode.TOOL_UNKNOWN, `Unknown tool "${req.name}". Available: ${[...this.tools.keys()].join(', ')}`);
      let input: unknown;
      try {
        input = JSON.parse(req.inputJson || '{}');
      } catch {
        throw new AppError(ErrorCode.TOOL_INPUT_INVALID, 'The tool input is not valid JSON');
      }
      if (!tool.validate(input)) {
        const problems = (tool.validate.errors ?? []).map((e) => `${e.instancePath || 'input'} ${e.message}`).join('; ');
        throw new AppError(ErrorCode.TOOL_INPUT_INVALID, `Invalid input for ${req.name}: ${problems}`);
      }
      const result = await tool.def.run(input as never, { appId: req.appId, runId: req.runId, env: this.env, files: this.files });
      return { toolUseId: req.toolUseId, output: this.truncate(result.output), isError: false, errorCode: '', bytesWritten: BigInt(result.bytesWritten ?? 0) };
    } catch (err) {
      outcome = err instanceof AppError ? err.code : ErrorCode.INTERNAL;
      if (!(err instanceof AppError)) this.logger.error({ err, tool: req.name }, 'tool failed unexpectedly');
      const message = err instanceof AppError ? err.message : 'The tool failed unexpectedly; the error was logged';
      return { toolUseId: req.toolUseId, output: `Error ${outcome}: ${message}`, isError: true, errorCode: outcome, bytesWritten: 0n };
    } finally {
      this.executions.inc({ tool: req.name || 'unknown', outcome });
      this.duration.observe({ tool: req.name || 'unknown', outcome }, (performance.now() - started) / 1000);
    }
  }

  private truncate(output: string): string {
    const max = this.env.TOOL_MAX_RESULT_CHARS;
    if (output.length <= max) return output;
    return `${output.slice(0, max)}\n[truncated: showing ${max} of ${output.length} characters]`;
  }
}
