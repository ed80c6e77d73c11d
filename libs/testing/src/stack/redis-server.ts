import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { ServerLaunch } from './managed-server';

const PROBE_TIMEOUT_MS = 2_000;

export function redisLaunch(options: { binary: string; port: number; dataDir: string }): ServerLaunch {
  const workDir = path.join(options.dataDir, 'redis');
  return {
    name: 'redis',
    command: options.binary,
    // A cache and lock store here: nothing is written to disk.
    args: ['--bind', '127.0.0.1', '--port', String(options.port), '--save', '', '--appendonly', 'no', '--dir', workDir, '--daemonize', 'no'],
    ports: [{ label: 'redis', port: options.port }],
    stopSignal: 'SIGTERM',
    exitSignal: 'SIGKILL',
    prepare: async () => void fs.mkdirSync(workDir, { recursive: true }),
    isReady: () => redisAnswersPing(options.port),
  };
}

export function redisAnswersPing(port: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let reply = '';
    socket.setTimeout(PROBE_TIMEOUT_MS, () => socket.destroy(new Error('PING timed out')));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString('latin1');
      if (!reply.includes('\r\n')) return;
      socket.destroy();
      // -LOADING while a dataset loads: not ready yet.
      resolve(reply.startsWith('+PONG'));
    });
    socket.once('error', reject);
    socket.once('close', () => resolve(false));
  });
}
