import type Anthropic from '@anthropic-ai/sdk';
import { Inject, Injectable } from '@nestjs/common';
import { AppError, ErrorCode, aiV1, type Rpc } from '@overskill/contracts';
import type { RpcReply, RpcRequest } from '@overskill/messaging';
import { AiMetrics } from '../ai-metrics';
import { AI_ROUTER_ENV, type AiRouterEnv } from '../config';
import { AnthropicProviderRepository } from './anthropic-provider.repository';

type ContentBlockInit = RpcReply<typeof Rpc.aiCompletionCreate>['content'] extends (infer B)[] | undefined ? B : never;

@Injectable()
export class CompletionService {
  constructor(
    @Inject(AI_ROUTER_ENV) private readonly env: AiRouterEnv,
    private readonly anthropic: AnthropicProviderRepository,
    private readonly metrics: AiMetrics,
  ) {}

  async create(req: RpcRequest<typeof Rpc.aiCompletionCreate>): Promise<RpcReply<typeof Rpc.aiCompletionCreate>> {
    const model = this.modelFor(req.modelAlias || 'primary');
    const started = performance.now();
    let outcome = 'ok';
    try {
      const message = await this.anthropic.createMessage({
        model,
        max_tokens: req.maxTokens > 0 ? req.maxTokens : 4096,
        // Stable prefix first so the provider's prompt cache can reuse it across turns.
        ...(req.system ? { system: [{ type: 'text', text: req.system, cache_control: { type: 'ephemeral' } }] } : {}),
        messages: req.messages.map(toAnthropicMessage),
        ...(req.tools.length ? { tools: req.tools.map(toAnthropicTool) } : {}),
      });
      const usage = message.usage;
      const team = req.teamId || 'unknown';
      this.metrics.tokens.inc({ model, team, kind: 'input' }, usage.input_tokens);
      this.metrics.tokens.inc({ model, team, kind: 'output' }, usage.output_tokens);
      this.metrics.tokens.inc({ model, team, kind: 'cache_read' }, usage.cache_read_input_tokens ?? 0);
      this.metrics.tokens.inc({ model, team, kind: 'cache_write' }, usage.cache_creation_input_tokens ?? 0);
      return {
        id: message.id,
        model: message.model,
        stopReason: message.stop_reason ?? '',
        content: message.content.flatMap(fromAnthropicBlock),
        usage: {
          inputTokens: BigInt(usage.input_tokens),
          outputTokens: BigInt(usage.output_tokens),
          cacheReadInputTokens: BigInt(usage.cache_read_input_tokens ?? 0),
          cacheCreationInputTokens: BigInt(usage.cache_creation_input_tokens ?? 0),
        },
        latencyMs: performance.now() - started,
      };
    } catch (err) {
      outcome = err instanceof AppError ? err.code : ErrorCode.INTERNAL;
      throw err;
    } finally {
      this.metrics.requests.inc({ model, outcome });
      this.metrics.duration.observe({ model, outcome }, (performance.now() - started) / 1000);
    }
  }

  private modelFor(alias: string): string {
    if (alias === 'primary') return this.env.AI_PRIMARY_MODEL;
    if (alias === 'fallback') return this.env.AI_FALLBACK_MODEL;
    throw new AppError(ErrorCode.AI_MODEL_ALIAS_UNKNOWN, `Unknown model alias "${alias}"; use primary or fallback`);
  }
}

function toAnthropicMessage(message: aiV1.ChatMessage): Anthropic.MessageParam {
  const role = message.role === aiV1.Role.ASSISTANT ? 'assistant' : 'user';
  const content: Anthropic.ContentBlockParam[] = message.content.map((block) => {
    switch (block.block.case) {
      case 'text':
        return { type: 'text', text: block.block.value.text };
      case 'toolUse':
        return { type: 'tool_use', id: block.block.value.id, name: block.block.value.name, input: parseJsonObject(block.block.value.inputJson) };
      case 'toolResult':
        return { type: 'tool_result', tool_use_id: block.block.value.toolUseId, content: block.block.value.content, is_error: block.block.value.isError };
      default:
        throw new AppError(ErrorCode.MESSAGE_MALFORMED, 'A chat message has an empty content block');
    }
  });
  return { role, content };
}

function toAnthropicTool(tool: aiV1.ToolDefinition): Anthropic.Tool {
  return { name: tool.name, description: tool.description, input_schema: parseJsonObject(tool.inputSchemaJson) as Anthropic.Tool.InputSchema };
}

function fromAnthropicBlock(block: Anthropic.ContentBlock): ContentBlockInit[] {
  if (block.type === 'text') return [{ block: { case: 'text', value: { text: block.text } } }];
  if (block.type === 'tool_use') return [{ block: { case: 'toolUse', value: { id: block.id, name: block.name, inputJson: JSON.stringify(block.input ?? {}) } } }];
  return [];
}

function parseJsonObject(json: string): Record<string, unknown> {
  try {
    const value = JSON.parse(json || '{}');
    if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new AppError(ErrorCode.MESSAGE_MALFORMED, 'A JSON field of the completion request is not a JSON object');
}
