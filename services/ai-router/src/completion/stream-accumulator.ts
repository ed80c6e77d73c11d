import type Anthropic from '@anthropic-ai/sdk';
import type { ChatMessage, ChatStreamEvent } from '../providers/chat-provider';

/** Forwards every event and builds the final message (content, stop reason, usage) from them. */
export async function accumulateStream(events: AsyncIterable<ChatStreamEvent>, forward: (event: ChatStreamEvent) => void): Promise<ChatMessage> {
  let message: ChatMessage | undefined;
  const blocks: Array<{ type: 'text'; text: string } | { type: 'tool_use'; id: string; name: string; json: string }> = [];
  for await (const event of events) {
    forward(event);
    switch (event.type) {
      case 'message_start':
        message = { ...event.message, content: [], usage: { ...event.message.usage } };
        break;
      case 'content_block_start': {
        const block = event.content_block;
        blocks[event.index] =
          block.type === 'tool_use'
            ? { type: 'tool_use', id: block.id, name: block.name, json: '' }
            : { type: 'text', text: block.type === 'text' ? block.text : '' };
        break;
      }
      case 'content_block_delta': {
        const block = blocks[event.index];
        if (event.delta.type === 'text_delta' && block?.type === 'text') block.text += event.delta.text;
        if (event.delta.type === 'input_json_delta' && block?.type === 'tool_use') block.json += event.delta.partial_json;
        break;
      }
      case 'message_delta':
        if (message) {
          message.stop_reason = event.delta.stop_reason;
          const usage = event.usage as Partial<Anthropic.Usage>;
          message.usage = {
            ...message.usage,
            output_tokens: usage.output_tokens ?? message.usage.output_tokens,
            ...(usage.input_tokens != null ? { input_tokens: usage.input_tokens } : {}),
            ...(usage.cache_read_input_tokens != null ? { cache_read_input_tokens: usage.cache_read_input_tokens } : {}),
            ...(usage.cache_creation_input_tokens != null ? { cache_creation_input_tokens: usage.cache_creation_input_tokens } : {}),
          };
        }
        break;
      default:
        break;
    }
  }
  if (!message) throw new Error('the model stream ended before message_start');
  message.content = blocks.filter(Boolean).map((b) => {
    if (b.type === 'text') return { type: 'text', text: b.text, citations: null } as Anthropic.TextBlock;
    let input: unknown = {};
    try {
      input = JSON.parse(b.json || '{}');
    } catch {
      input = { _raw_arguments: b.json };
    }
    return { type: 'tool_use', id: b.id, name: b.name, input } as Anthropic.ToolUseBlock;
  });
  return message;
}
