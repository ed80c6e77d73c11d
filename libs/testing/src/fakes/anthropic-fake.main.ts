import { AnthropicFake } from './anthropic-fake';
import { demoResponder } from './demo-script';

// `npm start` without ANTHROPIC_API_KEY runs this, and ai-router's ANTHROPIC_BASE_URL points here, so
// the whole platform can be tried end to end with no account and no network.

const DEFAULT_PORT = 4010;

function portFromEnv(value: string | undefined): number {
  if (value === undefined || value === '') return DEFAULT_PORT;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`PORT must be an integer from 0 to 65535, got "${value}"`);
  return port;
}

async function main(): Promise<void> {
  const fake = new AnthropicFake().respondWith(demoResponder);
  const url = await fake.start(portFromEnv(process.env['PORT']));
  process.stdout.write(`anthropic-fake listening on ${url} (demo mode)\n`);

  let stopping = false;
  const shutdown = (): void => {
    if (stopping) return;
    stopping = true;
    fake.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`anthropic-fake: error while stopping: ${String(error)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}

main().catch((error: unknown) => {
  process.stderr.write(`anthropic-fake failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
