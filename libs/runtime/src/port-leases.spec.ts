import { createServer, type Server } from 'node:net';
import { PortLeases, portIsFree } from './port-leases';

// Below the kernel's ephemeral range (32768-60999), where a port can be any outgoing
// connection's, and the ranges a replica leases from are kept below it too (docs/preview.md).
describe('PortLeases', () => {
  it('leases each port of the range once, skips ports another program holds, and takes them back', async () => {
    const busy: Server = createServer();
    await new Promise<void>((resolve) => busy.listen({ port: 29391, host: '127.0.0.1' }, resolve));
    try {
      const leases = new PortLeases({ from: 29390, to: 29392 });
      const got = [await leases.lease(), await leases.lease()].sort();
      expect(got).toEqual([29390, 29392]);
      await expect(leases.lease()).rejects.toThrow('every port of 29390-29392 is in use');
      leases.release(29390);
      expect(leases.leased).toBe(1);
      expect(await leases.lease()).toBe(29390);
      expect(await portIsFree(29391)).toBe(false);
    } finally {
      await new Promise((resolve) => busy.close(resolve));
    }
  });
});
