import { ErrorCode } from '@overskill/contracts';
import Ajv from 'ajv';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TOOL_NAMES } from '../catalog/tool-names';
import { loadConfig } from '@overskill/observability';
import { toolRunnerEnvSchema } from '../config';
import { busyLock, createHarness, type Harness } from '../__tests__/tool-harness';

describe('ToolExecutionService', () => {
  let h: Harness;
  afterEach(() => h?.close());

  it('offers the whole catalog of the seed by default, in its order, with a JSON schema each', () => {
    h = createHarness();
    const { tools } = h.service.catalog();
    expect(tools!.map((t) => t.name)).toEqual([...TOOL_NAMES]);
    // The service compiles each validator on the tool's first call: every schema must compile
    // under the same strict options, or that call would fail instead of the start.
    const ajv = new Ajv({ allErrors: true, strict: true });
    for (const tool of tools!) {
      expect(JSON.parse(tool.inputSchemaJson!)).toMatchObject({ type: 'object' });
      expect(() => ajv.compile(JSON.parse(tool.inputSchemaJson!))).not.toThrow();
      expect(tool.description!.length).toBeGreaterThan(20);
    }
  });

  it('offers only TOOLS_ENABLED, and answers the rest as unknown', async () => {
    h = createHarness({ env: { TOOLS_ENABLED: 'read_file, search_files' } });
    expect(h.service.catalog().tools!.map((t) => t.name)).toEqual(['read_file', 'search_files']);
    const reply = await h.run('write_file', { path: 'a.txt', content: 'x' });
    expect(reply).toMatchObject({ isError: true, errorCode: ErrorCode.TOOL_UNKNOWN });
    expect(reply.output).toContain('Available: read_file, search_files');
    expect(existsSync(join(h.root, 'a.txt'))).toBe(false);
  });

  it('refuses to start with a tool name that does not exist', () => {
    expect(() => loadConfig(toolRunnerEnvSchema, { WORKSPACES_DIR: '/tmp', TOOLS_ENABLED: 'read_file,rm_rf' })).toThrow(
      /TOOLS_ENABLED unknown tool\(s\) rm_rf/,
    );
  });

  it('takes the seed limits by default', () => {
    const env = loadConfig(toolRunnerEnvSchema, { WORKSPACES_DIR: '/tmp' });
    expect(env).toMatchObject({
      TOOL_MAX_FILE_SIZE_BYTES: 10 * 1024 * 1024,
      TOOL_MAX_SEARCH_RESULTS: 100,
      TOOL_MAX_IMAGE_PIXELS: { width: 2048, height: 2048 },
    });
    expect(() => loadConfig(toolRunnerEnvSchema, { WORKSPACES_DIR: '/tmp', TOOL_MAX_IMAGE_PIXELS: '2048' })).toThrow(/TOOL_MAX_IMAGE_PIXELS/);
  });

  it.each([
    ['a missing field', 'write_file', { path: 'a.txt' }, "input must have required property 'content'"],
    ['a wrong type', 'write_file', { path: 'a.txt', content: 42 }, 'content must be string'],
    ['an unknown property', 'read_file', { path: 'a.txt', mode: 'x' }, 'input has an unknown property "mode"'],
    ['a value out of range', 'search_files', { pattern: 'x', context_lines: 99 }, 'context_lines must be <= 10'],
    ['a bad enum value', 'git_branch', { action: 'merge' }, 'action must be one of "list", "create", "switch", "delete"'],
    ['input that is not JSON', 'read_file', '{"path": ', 'The tool input is not valid JSON'],
  ])('hands %s back to the model as the result, never as a crash', async (_what, name, input, message) => {
    h = createHarness();
    const reply = await h.run(name, input);
    expect(reply).toMatchObject({ isError: true, errorCode: ErrorCode.TOOL_INPUT_INVALID });
    expect(reply.output).toContain(message);
    expect(reply.output).toMatch(/^Error TOOL_INPUT_INVALID: /);
  });

  it('truncates a result that is too large with an explicit marker and the total size', async () => {
    h = createHarness({ env: { TOOL_MAX_RESULT_CHARS: '100' } });
    writeFileSync(join(h.root, 'big.txt'), 'x'.repeat(250));
    const reply = await h.run('read_file', { path: 'big.txt' });
    expect(reply.isError).toBe(false);
    expect(reply.output).toBe(`${'x'.repeat(100)}\n[truncated: showing 100 of 250 characters (250 bytes)]`);
    expect(h.events.at(-1)).toMatchObject({ outputBytes: 250n, outputTruncated: true });
  });

  it('writes only under the app lock: a busy app changes nothing', async () => {
    h = createHarness({ lock: busyLock });
    writeFileSync(join(h.root, 'a.txt'), 'old');
    for (const [name, input] of [
      ['write_file', { path: 'a.txt', content: 'new' }],
      ['update_file', { path: 'a.txt', search: 'old', replace: 'new' }],
      ['line_replace', { path: 'a.txt', first_line: 1, last_line: 1, old_lines: 'old', new_lines: 'new' }],
      ['delete_file', { path: 'a.txt' }],
      ['rename_file', { from: 'a.txt', to: 'b.txt' }],
    ] as const) {
      expect(await h.run(name, input)).toMatchObject({ isError: true, errorCode: ErrorCode.APP_BUSY });
    }
    expect(readFileSync(join(h.root, 'a.txt'), 'utf8')).toBe('old');
    expect(existsSync(join(h.root, 'b.txt'))).toBe(false);
  });

  it('takes the lock for writes, not for reads', async () => {
    h = createHarness();
    await h.run('write_file', { path: 'a.txt', content: 'hello' });
    await h.run('read_file', { path: 'a.txt' });
    await h.run('search_files', { pattern: 'hello' });
    expect(h.locks).toEqual([expect.stringMatching(/^0b7f4c1e/)]);
  });

  it('reports every execution as an event and in metrics, by tool and outcome', async () => {
    h = createHarness();
    await h.run('write_file', { path: 'a.txt', content: 'hello' });
    await h.run('read_file', { path: 'missing.txt' });
    await h.run('no_such_tool', {});
    expect(h.events).toEqual([
      expect.objectContaining({
        tool: 'write_file',
        outcome: 'ok',
        bytesWritten: 5n,
        appId: expect.any(String),
        runId: 'run-1',
        teamId: 'team-1',
        toolUseId: 'tu-1',
      }),
      expect.objectContaining({ tool: 'read_file', outcome: ErrorCode.TOOL_FILE_NOT_FOUND, bytesWritten: 0n }),
      expect.objectContaining({ tool: 'no_such_tool', outcome: ErrorCode.TOOL_UNKNOWN }),
    ]);
    expect(h.events[0]!.durationMs).toBeGreaterThan(0);
    const metrics = await h.registry.metrics();
    expect(metrics).toMatch(/tool_executions_total\{tool="write_file",outcome="ok"\} 1/);
    expect(metrics).toMatch(/tool_executions_total\{tool="read_file",outcome="TOOL_FILE_NOT_FOUND"\} 1/);
    expect(metrics).toMatch(/tool_executions_total\{tool="unknown",outcome="TOOL_UNKNOWN"\} 1/);
    expect(metrics).toMatch(/tool_execution_duration_seconds_count\{tool="write_file",outcome="ok"\} 1/);
  });

  it('publishes the event after the reply is handed back, not before', async () => {
    h = createHarness();
    const call = { teamId: 'team-1', appId: h.root.split('/').at(-1)!, runId: 'run-1', toolUseId: 'tu-9', name: 'read_file', inputJson: '{"path":"x.txt"}' };
    await h.service.execute({ $typeName: 'overskill.tool.v1.ToolCallRequest', ...call });
    expect(h.events).toEqual([]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(h.events).toEqual([expect.objectContaining({ toolUseId: 'tu-9', tool: 'read_file' })]);
  });

  it('answers the tool result even when the event cannot be published', async () => {
    h = createHarness({
      deps: { runEvents: { broadcastProgress: () => undefined, toolExecuted: () => Promise.reject(new Error('JetStream down')) } as never },
    });
    expect(await h.run('write_file', { path: 'a.txt', content: 'x' })).toMatchObject({ isError: false });
  });

  it('refuses a call for something that is not an app id', async () => {
    h = createHarness();
    const reply = await h.service.execute({
      $typeName: 'overskill.tool.v1.ToolCallRequest',
      teamId: 't',
      appId: '../etc',
      runId: 'r',
      toolUseId: 'u',
      name: 'read_file',
      inputJson: '{"path":"passwd"}',
    });
    expect(reply).toMatchObject({ isError: true, errorCode: ErrorCode.APP_NOT_FOUND });
  });
});
