import { AppError, busInboxPrefix, ErrorCode } from '@overskill/contracts';
import { createPrivateKey, createPublicKey, sign, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { connect, Events, type Authenticator, type ConnectionOptions, type NatsConnection } from 'nats';
import { closeAbandonedDials } from './abandoned-dial';
import { COALESCE_WRITES_OPTION, coalesceWritesPerTurn } from './coalesced-writes';

// Every connection of this process, Nest's RPC server's included, shares nats.js' transport.
closeAbandonedDials();
coalesceWritesPerTurn();

// Reconnect forever: a NATS restart must not take a service down with it. No async stack
// traces: nats.js would build two Error objects per request for them; our errors carry codes.
// Ping every 2 s, two unanswered pings make the link stale: a paused or wedged nats-server keeps
// its socket open, and is noticed in 4-6 s instead of by each request's own timeout. Writes
// leave once per turn of the event loop (coalesced-writes.ts).
export const NATS_CONNECTION_OPTIONS = {
  maxReconnectAttempts: -1,
  reconnectTimeWait: 500,
  timeout: 5000,
  pingInterval: 2000,
  maxPingOut: 2,
  noAsyncTraces: true,
  [COALESCE_WRITES_OPTION]: true,
} as const;

// Who a connection is on the bus: its role (services use their name, the CLI `cli`), the NKEY
// seed nats-server knows its public key for, and TLS material for servers that require it.
export interface NatsCredentials {
  role: string;
  nkeySeed?: string;
  tls?: { caFile?: string; certFile?: string; keyFile?: string };
}

export interface NatsCredentialsEnv {
  NATS_NKEY_SEED?: string;
  NATS_NKEY_SEED_FILE?: string;
  NATS_TLS_CA_FILE?: string;
  NATS_TLS_CERT_FILE?: string;
  NATS_TLS_KEY_FILE?: string;
}

// NATS_NKEY_SEED, or NATS_NKEY_SEED_FILE (a mounted secret); TLS when a CA or a client cert is set.
export function natsCredentialsFromEnv(role: string, env: NatsCredentialsEnv): NatsCredentials {
  let nkeySeed = env.NATS_NKEY_SEED?.trim() || undefined;
  if (!nkeySeed && env.NATS_NKEY_SEED_FILE) {
    try {
      nkeySeed = readFileSync(env.NATS_NKEY_SEED_FILE, 'utf8').trim();
    } catch (err) {
      throw new Error(`NATS_NKEY_SEED_FILE ${env.NATS_NKEY_SEED_FILE} cannot be read: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
  }
  if (nkeySeed) assertUserSeed(role, nkeySeed);
  const tls =
    env.NATS_TLS_CA_FILE || env.NATS_TLS_CERT_FILE
      ? { caFile: env.NATS_TLS_CA_FILE, certFile: env.NATS_TLS_CERT_FILE, keyFile: env.NATS_TLS_KEY_FILE }
      : undefined;
  return { role, nkeySeed, tls };
}

// What nats.js needs to connect as this identity. Replies come back under the role's own inbox
// prefix: the server lets no other role subscribe there.
export function natsAuthOptions(credentials: NatsCredentials): Partial<ConnectionOptions> {
  const options: Partial<ConnectionOptions> = { inboxPrefix: busInboxPrefix(credentials.role) };
  if (credentials.nkeySeed) {
    assertUserSeed(credentials.role, credentials.nkeySeed);
    options.authenticator = nkeySeedAuthenticator(credentials.nkeySeed);
  }
  if (credentials.tls) options.tls = { ...credentials.tls };
  return options;
}

function assertUserSeed(role: string, seed: string): void {
  if (!/^SU[A-Z2-7]{56}$/.test(seed)) throw new Error(`the NATS NKEY seed of ${role} is not a user seed (SU…, 58 characters)`);
}

// nats.js signs the server's nonce with tweetnacl, in pure JS: ~80 ms of CPU per connect and
// reconnect here. Node's own Ed25519 signs the same bytes in microseconds. The public key is
// derived by Node too: nkeys.js derives it with tweetnacl, another 40-90 ms of every start.
function nkeySeedAuthenticator(seed: string): Authenticator {
  const privateKey = ed25519KeyFromSeed(seed);
  const nkey = userPublicKey(privateKey);
  return (nonce?: string) => ({ nkey, sig: nonce ? sign(null, Buffer.from(nonce), privateKey).toString('base64') : '' });
}

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

// An NKEY seed is base32 of 2 prefix bytes, the 32-byte Ed25519 seed and a CRC-16.
function ed25519KeyFromSeed(seed: string): KeyObject {
  const bytes: number[] = [];
  let bits = 0;
  let value = 0;
  for (const char of seed) {
    value = (value << 5) | BASE32.indexOf(char);
    bits += 5;
    if (bits >= 8) {
      bytes.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  // A mistyped seed is refused here, as nkeys.js refused it, not by the server's "authorization violation".
  const payload = bytes.slice(0, 34);
  if (bytes.length < 36 || crc16(payload) !== ((bytes[34] ?? 0) | ((bytes[35] ?? 0) << 8)))
    throw new Error('the NATS NKEY seed is damaged: its checksum does not match');
  const raw = Buffer.from(payload.slice(2));
  // PKCS#8 wrapping of a raw Ed25519 private key (RFC 8410).
  const pkcs8Prefix = Buffer.from('302e020100300506032b657004220420', 'hex');
  return createPrivateKey({ key: Buffer.concat([pkcs8Prefix, raw]), format: 'der', type: 'pkcs8' });
}

// The user's public NKEY ("U…"): base32 of the user prefix byte, the raw Ed25519 public key and a CRC-16.
function userPublicKey(privateKey: KeyObject): string {
  const raw = Buffer.from(createPublicKey(privateKey).export({ format: 'jwk' }).x ?? '', 'base64url');
  const payload = [20 << 3, ...raw];
  const crc = crc16(payload);
  const bytes = [...payload, crc & 0xff, crc >>> 8];
  let out = '';
  let bits = 0;
  let value = 0;
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return bits > 0 ? out + BASE32[(value << (5 - bits)) & 31] : out;
}

// CRC-16/XMODEM, the checksum of NKEY encodings.
function crc16(bytes: number[]): number {
  let crc = 0;
  for (const byte of bytes) {
    crc ^= byte << 8;
    for (let i = 0; i < 8; i++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

export function connectNats(natsUrl: string, name: string, credentials: NatsCredentials = natsCredentialsFromEnv(name, process.env)): Promise<NatsConnection> {
  return connect({ servers: natsUrl, name, ...NATS_CONNECTION_OPTIONS, ...natsAuthOptions(credentials) });
}

// Whether a connection can reach nats-server right now. While it reconnects, nats.js would
// hold a request until its timeout; callers are told at once instead, and requests already
// waiting are failed the moment the link drops (their replies cannot arrive on it any more).
export class NatsLink {
  private isUp = true;
  private readonly lossListeners: Array<(err: AppError) => void> = [];

  constructor(nc: NatsConnection) {
    void (async () => {
      for await (const status of nc.status()) {
        if (status.type === Events.Disconnect) {
          this.isUp = false;
          const err = this.lossError();
          for (const listener of this.lossListeners) listener(err);
        } else if (status.type === Events.Reconnect) {
          this.isUp = true;
        }
      }
    })().catch(() => undefined);
  }

  get up(): boolean {
    return this.isUp;
  }

  // Called on every loss of the link, with the error waiting requests fail with.
  onLoss(listener: (err: AppError) => void): void {
    this.lossListeners.push(listener);
  }

  lossError(details: Record<string, string> = {}): AppError {
    return new AppError(ErrorCode.DEPENDENCY_UNAVAILABLE, 'The message bus (NATS) is unreachable; retry in a moment', details);
  }
}

const links = new WeakMap<NatsConnection, NatsLink>();

export function natsLink(nc: NatsConnection): NatsLink {
  let link = links.get(nc);
  if (!link) {
    link = new NatsLink(nc);
    links.set(nc, link);
  }
  return link;
}
