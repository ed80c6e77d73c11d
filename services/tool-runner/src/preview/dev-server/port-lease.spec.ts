import { createServer, type Server } from 'node:net';
import { PortLeases, portIsFree } from './port-lease';

describe('PortLeases', () => {
  it('leases each port of the range once, skips ports another program holds, and takes them back', async () => {
    const busy: Server = createServer();
    await new Promise<void>((resolve) => busy.listen({ port: 47391, host: '127.0.0.1' }, resolve));
    try {
      const leases = new PortLeases({ from: 47390, to: 47392 });
      const got = [await leases.lease(), await leases.lease()].sort();
      expect(got).toEqual([47390, 47392]);
      await expect(leases.lease()).rejects.toThrow('every port of 47390-47392 is in use');
      leases.release(47390);
      expect(leases.leased).toBe(1);
      expect(await leases.lease()).toBe(47390);
      expect(await portIsFree(47391)).toBe(false);
    } finally {
      await new Promise((resolve) => busy.close(resolve));
    }
  });
});
