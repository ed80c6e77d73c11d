import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { ServerLaunch } from './managed-server';

const PROBE_TIMEOUT_MS = 2_000;

// authorization: the users block nats-server loads; clients without one of its identities are refused.
export function natsLaunch(options: {
  binary: string;
  port: number;
  monitorPort: number;
  dataDir: string;
  authorization: string;
  tls?: { certFile: string; keyFile: string };
}): ServerLaunch {
  const storeDir = path.join(options.dataDir, 'nats');
  const configFile = path.join(storeDir, 'nats-server.conf');
  return {
    name: 'nats',
    command: options.binary,
    // The monitor binds to the same address as the client port (-a).
    args: ['-c', configFile, '-a', '127.0.0.1', '-p', String(options.port), '-m', String(options.monitorPort), '-js', '-sd', storeDir],
    // One Go processor, as docker-compose.prod.yml gives nats-server one CPU: with one per core, Go's
    // idle processors spin looking for work between messages, CPU taken from the services sharing
    // those cores (measured: decision 0042).
    env: { GOMAXPROCS: '1' },
    ports: [
      { label: 'nats', port: options.port },
      { label: 'nats-monitor', port: options.monitorPort },
    ],
    stopSignal: 'SIGTERM',
    exitSignal: 'SIGKILL',
    prepare: async () => {
      fs.mkdirSync(storeDir, { recursive: true });
      const tls = options.tls ? `tls {\n  cert_file: ${JSON.stringify(options.tls.certFile)}\n  key_file: ${JSON.stringify(options.tls.keyFile)}\n}\n` : '';
      fs.writeFileSync(configFile, `${options.authorization}${tls}`, { mode: 0o600 });
    },
    // /healthz answers 200 only once JetStream is up too.
    isReady: () => httpStatusIs200(`http://127.0.0.1:${options.monitorPort}/healthz`),
  };
}

function httpStatusIs200(url: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    // No keep-alive agent: a pooled socket would keep a Jest worker alive after the tests.
    const request = http.get(url, { agent: false, timeout: PROBE_TIMEOUT_MS }, (response) => {
      response.resume();
      resolve(response.statusCode === 200);
    });
    request.once('timeout', () => request.destroy(new Error(`${url} timed out`)));
    request.once('error', reject);
  });
}
