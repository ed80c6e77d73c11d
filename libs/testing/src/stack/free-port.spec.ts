import { readFileSync } from 'node:fs';
import net from 'node:net';
import { freePort, portPicker } from './free-port';

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
    expect(ports.filter((p) => p >= ephemeralLow || p < 25_000)).toEqual([]);
    const servers = await Promise.all(ports.map(listenOn));
    await closeAll(servers);
  });

  it('skips a port in use, and says so when a whole lap finds none free', async () => {
    const first = await freePort();
    const held = await listenOn(first);
    try {
      const picker = portPicker(first, first + 1, first);
      expect(await picker.next()).toBe(first + 1);
      const second = await listenOn(first + 1);
      try {
        await expect(picker.next()).rejects.toThrow(`no free port on 127.0.0.1 between ${first} and ${first + 1}`);
      } finally {
        await closeAll([second]);
      }
    } finally {
      await closeAll([held]);
    }
  });
});
