import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, relative, sep } from 'node:path';

export interface ConsoleAsset {
  body: Buffer;
  type: string;
  etag: string;
  // Compressed at build time (name.br, name.gz beside the file).
  br?: Buffer;
  gzip?: Buffer;
}

export interface ConsoleBundle {
  index: ConsoleAsset | null;
  // By URL path: /assets/index-3f2a1b.js
  assets: Map<string, ConsoleAsset>;
}

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
};

// The built console is small (a few MB) and immutable for the life of the process: read once.
export function loadConsoleBundle(dir: string): ConsoleBundle {
  const assets = new Map<string, ConsoleAsset>();
  if (!existsSync(join(dir, 'index.html'))) return { index: null, assets };
  const walk = (folder: string) => {
    for (const name of readdirSync(folder)) {
      const full = join(folder, name);
      if (statSync(full).isDirectory()) walk(full);
      else if (!/\.(br|gz)$/.test(name)) assets.set(`/${relative(dir, full).split(sep).join('/')}`, asset(full));
    }
  };
  walk(dir);
  const index = assets.get('/index.html') ?? null;
  assets.delete('/index.html');
  return { index, assets };
}

function asset(file: string): ConsoleAsset {
  const body = readFileSync(file);
  const stat = statSync(file);
  const variant = (suffix: string) => (existsSync(file + suffix) ? readFileSync(file + suffix) : undefined);
  return {
    body,
    type: TYPES[extname(file)] ?? 'application/octet-stream',
    etag: `"${stat.size.toString(16)}-${Math.floor(stat.mtimeMs).toString(16)}"`,
    br: variant('.br'),
    gzip: variant('.gz'),
  };
}
