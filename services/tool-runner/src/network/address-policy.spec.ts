import { ErrorCode } from '@overskill/contracts';
import { AddressPolicy, parseIpv4, parseIpv6 } from './address-policy';
import { GuardedHttpClient, type HostResolver } from './guarded-http.client';

// The SSRF guard's decisions, on addresses only: nothing here opens a socket. Every case that
// needs DNS gets its answer from an injected resolver; the client refuses before connecting, so
// a wrong decision would show up as a connection attempt to a private address, which the
// resolver below makes impossible to miss (it records every name asked).
describe('SSRF guard decisions', () => {
  const policy = new AddressPolicy();
  const decide = (url: string) => policy.checkUrl(new URL(url));

  // URL as the model gives it → refused, with the reason naming the category.
  const REFUSED_URLS: Array<[string, RegExp]> = [
    ['http://127.0.0.1/', /loopback/],
    ['http://127.255.255.254:8080/x', /loopback/],
    ['http://localhost/', /local machine/],
    ['http://LOCALHOST./', /local machine/],
    ['http://app.localhost/', /local machine/],
    ['http://0.0.0.0/', /this network/],
    ['http://0/', /this network/],
    ['http://10.0.0.5/', /private/],
    ['http://172.16.3.4/', /private/],
    ['http://172.31.255.255/', /private/],
    ['http://192.168.1.1/', /private/],
    ['http://100.64.0.1/', /carrier-grade/],
    ['http://100.100.100.200/latest/meta-data', /carrier-grade/],
    ['http://169.254.169.254/latest/meta-data/iam', /link-local/],
    ['http://169.254.0.1/', /link-local/],
    ['http://2130706433/', /loopback/], // decimal 127.0.0.1
    ['http://017700000001/', /loopback/], // octal
    ['http://0x7f000001/', /loopback/], // hex
    ['http://0x7f.0.0.1/', /loopback/],
    ['http://0177.0.0.1/', /loopback/],
    ['http://127.1/', /loopback/],
    ['http://2852039166/', /link-local/], // decimal 169.254.169.254
    ['http://0xa9fea9fe/', /link-local/], // hex 169.254.169.254
    ['http://0251.0376.0251.0376/', /link-local/], // octal 169.254.169.254
    ['http://[::1]/', /IPv6 loopback/],
    ['http://[::]/', /unspecified/],
    ['http://[::ffff:127.0.0.1]/', /IPv4-mapped/],
    ['http://[::ffff:7f00:1]/', /IPv4-mapped/],
    ['http://[::ffff:169.254.169.254]/', /IPv4-mapped/],
    ['http://[::ffff:8.8.8.8]/', /IPv4-mapped/],
    ['http://[::127.0.0.1]/', /IPv4-compatible/],
    ['http://[64:ff9b::a9fe:a9fe]/', /NAT64/],
    ['http://[2002:7f00:1::]/', /6to4/],
    ['http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/', /Teredo/],
    ['http://[fd00:ec2::254]/', /unique-local/],
    ['http://[fc00::1]/', /unique-local/],
    ['http://[fe80::1]/', /IPv6 link-local/],
    ['http://[fec0::1]/', /site-local/],
    ['http://[ff02::1]/', /multicast/],
    ['http://224.0.0.1/', /multicast/],
    ['http://255.255.255.255/', /reserved or broadcast/],
    ['http://240.0.0.1/', /reserved or broadcast/],
    ['http://192.0.2.10/', /documentation/],
    ['http://198.18.0.1/', /benchmarking/],
    ['http://[2001:db8::1]/', /documentation/],
    ['http://[100::1]/', /discard/],
    ['file:///etc/passwd', /only http and https/],
    ['gopher://example.com/', /only http and https/],
    ['ftp://example.com/x', /only http and https/],
    ['http://user:pass@example.com/', /credentials/],
    ['http://example.com@127.0.0.1/', /credentials/],
  ];

  it.each(REFUSED_URLS)('refuses %s', (url, reason) => {
    const decision = decide(url);
    expect(decision.allowed).toBe(false);
    expect(decision.reason).toMatch(reason);
  });

  it.each(['http://93.184.215.14/', 'https://8.8.8.8/', 'http://[2606:4700:4700::1111]/', 'https://example.com/page'])(
    'lets %s through (a public literal, or a name to check after it resolves)',
    (url) => {
      expect(decide(url).allowed).toBe(true);
    },
  );

  // Names whose DNS answers decide: at least one refused address refuses the host.
  const DNS_CASES: Array<[string, string[], boolean]> = [
    ['public.example', ['93.184.215.14'], true],
    ['public6.example', ['2606:4700::6810:84e5'], true],
    ['rebind.example', ['93.184.215.14', '127.0.0.1'], false],
    ['metadata.google.internal', ['169.254.169.254'], false],
    ['private.example', ['10.1.2.3'], false],
    ['mapped.example', ['::ffff:10.0.0.1'], false],
    ['ula.example', ['fd12:3456::1'], false],
    ['nothing.example', [], false],
  ];

  it.each(DNS_CASES)('%s resolving to %j is allowed: %s', (host, addresses, allowed) => {
    expect(policy.checkResolved(host, addresses, false).allowed).toBe(allowed);
  });

  it('exempts operator-allowlisted hosts, addresses and ranges, and nothing else', () => {
    const allowing = new AddressPolicy(['mirror.internal', '*.corp.example', '10.20.0.0/16', '127.0.0.1', 'fd00:1::/32']);
    expect(allowing.checkUrl(new URL('http://mirror.internal/')).hostAllowlisted).toBe(true);
    expect(allowing.checkUrl(new URL('http://pkg.corp.example/')).hostAllowlisted).toBe(true);
    expect(allowing.checkAddress('10.20.3.4').allowed).toBe(true);
    expect(allowing.checkAddress('10.21.0.1').allowed).toBe(false);
    expect(allowing.checkAddress('127.0.0.1').allowed).toBe(true);
    expect(allowing.checkAddress('127.0.0.2').allowed).toBe(false);
    expect(allowing.checkAddress('fd00:1::5').allowed).toBe(true);
    expect(allowing.checkUrl(new URL('http://localhost/')).allowed).toBe(false);
    expect(() => new AddressPolicy(['not a host!'])).toThrow(/TOOL_FETCH_ALLOWLIST/);
  });

  it('parses every inet_aton and IPv6 spelling to the address it means', () => {
    expect(parseIpv4('2130706433')?.address).toBe('127.0.0.1');
    expect(parseIpv4('0x7f.1')?.address).toBe('127.0.0.1');
    expect(parseIpv4('10.1')?.address).toBe('10.0.0.1');
    expect(parseIpv4('1.2.3.256')).toBeUndefined();
    expect(parseIpv4('4294967296')).toBeUndefined();
    expect(parseIpv4('09.0.0.1')).toBeUndefined();
    expect(parseIpv4('cafe')).toBeUndefined();
    expect(parseIpv6('::ffff:1.2.3.4')?.address).toBe('::ffff:102:304');
    expect(parseIpv6('[FE80::1%eth0]')?.address).toBe('fe80::1');
    expect(parseIpv6('1:2:3:4:5:6:7:8')?.address).toBe('1:2:3:4:5:6:7:8');
    expect(parseIpv6('1::2::3')).toBeUndefined();
    expect(parseIpv6('12345::')).toBeUndefined();
  });

  it('the client refuses on the DNS answer, before any connection, for every hop', async () => {
    const asked: string[] = [];
    const resolver: HostResolver = async (host) => {
      asked.push(host);
      if (host === 'rebind.example')
        return [
          { address: '93.184.215.14', family: 4 },
          { address: '127.0.0.1', family: 4 },
        ];
      if (host === 'metadata.example') return [{ address: '169.254.169.254', family: 4 }];
      if (host === 'v6private.example') return [{ address: 'fd00::1', family: 6 }];
      throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
    };
    const client = new GuardedHttpClient({ TOOL_FETCH_ALLOWLIST: [], TOOL_FETCH_TIMEOUT_MS: 2000, TOOL_FETCH_MAX_REDIRECTS: 3 }, resolver);
    const opts = { maxBytes: 1000, accept: () => true, acceptHeader: '*/*', acceptDescription: 'anything' };
    for (const url of ['http://rebind.example/', 'https://metadata.example/latest', 'http://v6private.example:8080/']) {
      await expect(client.get(url, opts)).rejects.toMatchObject({ code: ErrorCode.TOOL_FETCH_BLOCKED });
    }
    await expect(client.get('http://missing.example/', opts)).rejects.toMatchObject({
      code: ErrorCode.TOOL_FETCH_FAILED,
      message: expect.stringContaining('ENOTFOUND'),
    });
    await expect(client.get('http://[::1]:1/', opts)).rejects.toMatchObject({ code: ErrorCode.TOOL_FETCH_BLOCKED });
    await expect(client.get('not a url', opts)).rejects.toMatchObject({ code: ErrorCode.TOOL_INPUT_INVALID });
    expect(asked).toEqual(['rebind.example', 'metadata.example', 'v6private.example', 'missing.example']);
  });
});
