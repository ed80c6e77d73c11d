import type { ConsoleFact } from '../capture-batch';
import { DevOutput, lineLevel } from './dev-output';

describe('DevOutput', () => {
  it('publishes lines as server entries: colours stripped, secrets redacted, levels by stream and content', async () => {
    const published: ConsoleFact[] = [];
    const output = new DevOutput(async (facts) => void published.push(...facts));
    output.line('stdout', '\u001b[32m  VITE v8 ready\u001b[39m in 300 ms');
    output.line('stderr', 'key sk-ant-api03-abcdefghijklmnopqrstuvwxyz0123456789 leaked');
    output.line('stderr', '[vite] Internal server error: Failed to resolve import "./x"');
    output.line('stdout', '   ');
    await output.flush();
    expect(published.map((f) => [f.level, f.source])).toEqual([
      ['info', 'server'],
      ['warn', 'server'],
      ['error', 'server'],
    ]);
    expect(published[0]?.message).toBe('VITE v8 ready in 300 ms');
    expect(published[1]?.message).not.toContain('sk-ant-api03-abcdef');
    expect(output.tail).toHaveLength(3);
  });

  it('keeps at most 300 lines a minute and says how many it dropped', async () => {
    const published: ConsoleFact[] = [];
    const output = new DevOutput(async (facts) => void published.push(...facts));
    for (let i = 0; i < 320; i++) output.line('stdout', `line ${i}`);
    await output.flush();
    expect(published).toHaveLength(301);
    expect(published.at(-1)?.message).toBe('20 more dev-server lines this minute were not kept');
    expect(lineLevel('stdout', 'Error: EADDRINUSE')).toBe('error');
  });
});
