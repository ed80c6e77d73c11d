import { readFileSync } from 'node:fs';
import net from 'node:net';
import { freePort } from './free-port';

const listenOn = (port: number): Promise<net.Server> =>
  new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
const closeAll = (servers: net.Server[]): Promise<void[]> => Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));

describe('freePort', () => {
  it('hands out distinct ports below the ephemeral range, each one free to bind', async () => {
    const ephemeralLow = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    const ports: number[] = [];
    for (let i = 0; i < 20; i++) ports.push(await freePort());
    expect(new Set(ports).size).toBe(20);
    expect(ports.filter((p) => p >= ephemeralLow || p < 30_000)).toEqual([]);
    const servers = await Promise.all(ports.map(listenOn));
    await closeAll(servers);
  });
});
