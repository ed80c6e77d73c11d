import { defineTool } from './tool-definition';

export const broadcastProgressTool = defineTool<{ message: string }>({
  name: 'broadcast_progress',
  description: () =>
    "Tell the user what you are doing right now (one short sentence). It appears live in the run's event stream; it changes nothing in the app.",
  inputSchema: () => ({
    type: 'object',
    additionalProperties: false,
    required: ['message'],
    properties: { message: { type: 'string', minLength: 1, maxLength: 500 } },
  }),
  writes: 'none',
  async run(input, ctx) {
    ctx.deps.runEvents.broadcastProgress(ctx.call.runId, input.message);
    return { output: 'Shown to the user.' };
  },
});
