// A child process's script: plain `nats`, one subscription in a queue group, answering every request
// with the same bytes (REPLY_B64). The bare baseline the benches measure the lib's path against.
export function rawNatsResponderScript(name: string): string {
  return `
const { connect, nkeyAuthenticator } = require('nats');
(async () => {
  const nc = await connect({ servers: process.env.NATS_URL, name: '${name}', authenticator: nkeyAuthenticator(new TextEncoder().encode(process.env.NATS_NKEY_SEED)) });
  const reply = Buffer.from(process.env.REPLY_B64, 'base64');
  nc.subscribe(process.env.SUBJECT, { queue: '${name}', callback: (err, msg) => { if (!err) msg.respond(reply); } });
  await nc.flush();
  process.stdout.write('ready\\n');
  process.once('SIGTERM', () => { nc.drain().finally(() => process.exit(0)); });
})().catch((err) => { console.error(err); process.exit(1); });
`;
}
