import { request } from 'node:http';

export interface PreviewReply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  text: string;
}

// A request to the preview listener with the Host header a browser would send for
// <label>.preview.localhost; the raw path goes out unnormalized, as an attacker would send it.
export function previewRequest(
  port: number,
  host: string,
  rawPath: string,
  init: { method?: string; body?: string | Buffer; headers?: Record<string, string> } = {},
): Promise<PreviewReply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: init.method ?? 'GET', path: rawPath, headers: { host, ...init.headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text: body.toString('utf8') });
      });
    });
    req.on('error', reject);
    req.end(init.body);
  });
}

export function hostOf(url: string): string {
  return new URL(url).host;
}
