import { Inject, Injectable } from '@nestjs/common';
import { AppError, ErrorCode } from '@overskill/contracts';
import { lookup as dnsLookup } from 'node:dns/promises';
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import { TOOL_RUNNER_ENV, type ToolRunnerEnv } from '../config';
import { AddressPolicy, type ParsedIp } from './address-policy';

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

// How host names become addresses; tests inject their own so no real DNS is involved.
export type HostResolver = (host: string) => Promise<ResolvedAddress[]>;
export const HOST_RESOLVER = Symbol('HOST_RESOLVER');

export const systemResolver: HostResolver = async (host) => {
  const answers = await dnsLookup(host, { all: true, verbatim: true });
  return answers.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));
};

export interface FetchOptions {
  maxBytes: number;
  // Media types (without parameters) the caller can use; anything else is refused.
  accept: (mediaType: string) => boolean;
  acceptHeader: string;
  // Names the accepted types in the refusal.
  acceptDescription: string;
}

export interface FetchResult {
  url: string;
  status: number;
  mediaType: string;
  charset?: string;
  body: Buffer;
  redirects: string[];
  // The address the last hop connected to.
  address: string;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

// The one HTTP client for everything a model can point at (fetch_website, download_to_repo).
// Every hop — the first URL and each redirect, followed by hand up to a cap — is decided by
// the AddressPolicy on the URL and then on every address its name resolves to; the connection
// goes to the vetted address (the lookup is pinned, never repeated), with a deadline over the
// whole exchange, a size cap while streaming (after decompression too) and a content-type check.
@Injectable()
export class GuardedHttpClient {
  private readonly policy: AddressPolicy;

  constructor(
    @Inject(TOOL_RUNNER_ENV) private readonly env: Pick<ToolRunnerEnv, 'TOOL_FETCH_ALLOWLIST' | 'TOOL_FETCH_TIMEOUT_MS' | 'TOOL_FETCH_MAX_REDIRECTS'>,
    @Inject(HOST_RESOLVER) private readonly resolve: HostResolver,
  ) {
    this.policy = new AddressPolicy(env.TOOL_FETCH_ALLOWLIST);
  }

  async get(rawUrl: string, opts: FetchOptions): Promise<FetchResult> {
    let url = parseUrl(rawUrl);
    const redirects: string[] = [];
    const deadline = AbortSignal.timeout(this.env.TOOL_FETCH_TIMEOUT_MS);
    for (;;) {
      const target = await this.vet(url);
      const response = await this.request(url, target, opts, deadline);
      const status = response.statusCode ?? 0;
      if (REDIRECTS.has(status)) {
        response.destroy();
        const location = response.headers.location;
        if (!location) throw new AppError(ErrorCode.TOOL_FETCH_FAILED, `${url.href} answered ${status} without a Location`);
        if (redirects.length >= this.env.TOOL_FETCH_MAX_REDIRECTS) {
          throw new AppError(ErrorCode.TOOL_FETCH_REDIRECT_LIMIT, `More than ${this.env.TOOL_FETCH_MAX_REDIRECTS} redirects (last: ${url.href} → ${location})`);
        }
        url = parseUrl(location, url);
        redirects.push(url.href);
        continue;
      }
      if (status < 200 || status > 299) {
        response.destroy();
        throw new AppError(ErrorCode.TOOL_FETCH_FAILED, `${url.href} answered HTTP ${status}`);
      }
      const contentType = String(response.headers['content-type'] ?? '');
      const mediaType = (contentType.split(';')[0] ?? '').trim().toLowerCase() || 'application/octet-stream';
      if (!opts.accept(mediaType)) {
        response.destroy();
        throw new AppError(ErrorCode.TOOL_FETCH_CONTENT_TYPE, `${url.href} is ${mediaType}; this tool takes ${opts.acceptDescription}`);
      }
      const declared = Number(response.headers['content-length']);
      if (Number.isFinite(declared) && declared > opts.maxBytes) {
        response.destroy();
        throw new AppError(ErrorCode.TOOL_FETCH_TOO_LARGE, `${url.href} is ${declared} bytes; the limit is ${opts.maxBytes}`);
      }
      const body = await readCapped(response, url, opts.maxBytes, deadline);
      const charset = /charset=["']?([\w-]+)/i.exec(contentType)?.[1]?.toLowerCase();
      return { url: url.href, status, mediaType, charset, body, redirects, address: target.address };
    }
  }

  // The decision for one hop: refused with TOOL_FETCH_BLOCKED, or the address to connect to.
  private async vet(url: URL): Promise<ResolvedAddress> {
    const decision = this.policy.checkUrl(url);
    if (!decision.allowed) throw new AppError(ErrorCode.TOOL_FETCH_BLOCKED, `Refused ${url.href}: ${decision.reason}`);
    if (decision.literal) return fromParsed(decision.literal);
    const host = url.hostname;
    let addresses: ResolvedAddress[];
    try {
      addresses = await this.resolve(host);
    } catch (err) {
      throw new AppError(ErrorCode.TOOL_FETCH_FAILED, `${host} could not be resolved (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
    const resolved = this.policy.checkResolved(
      host,
      addresses.map((a) => a.address),
      decision.hostAllowlisted ?? false,
    );
    const [first] = addresses;
    if (!resolved.allowed || !first) throw new AppError(ErrorCode.TOOL_FETCH_BLOCKED, `Refused ${url.href}: ${resolved.reason}`);
    return first;
  }

  private request(url: URL, target: ResolvedAddress, opts: FetchOptions, deadline: AbortSignal): Promise<IncomingMessage> {
    // Pinned: the socket connects to the address that was vetted, not to a fresh lookup.
    const pinned: LookupFunction = (_host, options, callback) => {
      if ((options as { all?: boolean }).all) (callback as unknown as (e: null, a: ResolvedAddress[]) => void)(null, [target]);
      else callback(null, target.address, target.family);
    };
    const client = url.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const req = client.request(
        {
          protocol: url.protocol,
          hostname: url.hostname.replace(/^\[|\]$/g, ''),
          port: url.port || undefined,
          path: `${url.pathname}${url.search}`,
          method: 'GET',
          agent: false,
          lookup: pinned,
          signal: deadline,
          headers: { host: url.host, 'user-agent': 'overskill-tool-runner/1', accept: opts.acceptHeader, 'accept-encoding': 'gzip, deflate, br' },
        },
        resolve,
      );
      req.once('error', (err) => reject(transportError(url, err, deadline)));
      req.end();
    });
  }
}

function fromParsed(ip: ParsedIp): ResolvedAddress {
  return { address: ip.address, family: ip.family };
}

function parseUrl(raw: string, base?: URL): URL {
  try {
    return new URL(raw, base);
  } catch {
    throw new AppError(ErrorCode.TOOL_INPUT_INVALID, `"${raw}" is not a valid URL`);
  }
}

function transportError(url: URL, err: Error, deadline: AbortSignal): AppError {
  if (deadline.aborted) return new AppError(ErrorCode.TOOL_FETCH_TIMEOUT, `${url.href} did not answer in time`);
  const code = (err as NodeJS.ErrnoException).code;
  return new AppError(ErrorCode.TOOL_FETCH_FAILED, `${url.href} failed: ${code ?? err.message}`);
}

async function readCapped(response: IncomingMessage, url: URL, maxBytes: number, deadline: AbortSignal): Promise<Buffer> {
  const encoding = String(response.headers['content-encoding'] ?? '').toLowerCase();
  // A small compressed body can expand enormously: the cap applies to what comes out.
  let stream: NodeJS.ReadableStream = response;
  if (encoding === 'gzip' || encoding === 'x-gzip') stream = response.pipe(createGunzip());
  else if (encoding === 'deflate') stream = response.pipe(createInflate());
  else if (encoding === 'br') stream = response.pipe(createBrotliDecompress());
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of stream) {
      size += (chunk as Buffer).length;
      if (size > maxBytes) throw new AppError(ErrorCode.TOOL_FETCH_TOO_LARGE, `${url.href} is larger than the ${maxBytes}-byte limit`);
      chunks.push(chunk as Buffer);
    }
  } catch (err) {
    if (err instanceof AppError) throw err;
    if (deadline.aborted) throw new AppError(ErrorCode.TOOL_FETCH_TIMEOUT, `${url.href} did not finish in time`);
    throw new AppError(ErrorCode.TOOL_FETCH_FAILED, `${url.href} failed while reading: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  } finally {
    response.destroy();
  }
  return Buffer.concat(chunks);
}
