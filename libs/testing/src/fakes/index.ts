export * from './anthropic-fake';
export * from './demo-script';
export * from './otlp-collector-fake';
export * from './web-origin-fake';
export * from './git-http-fake';
// Shared by every loopback fake (GitHub, HTTP origin, …) so they start, read and stop the same way.
export * from './loopback-http-server';
export * from './openai-images-fake';
export * from './openai-chat-fake';
export * from './github-fake';
export * from './github-webhook-payloads';
export * from './npm-audit-registry-fake';
