import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { closeServer, listenOnLoopback } from './loopback-http-server';

export interface GitHttpFakeOptions {
  // The access token every request must carry as the password of HTTP Basic auth, like GitHub.
  token: string;
  // Other accepted tokens (several accounts, as several installations of an app would have).
  moreTokens?: string[];
}

export interface RecordedGitRequest {
  method: string;
  // Path and query as received: a token must never show up here.
  url: string;
  authorized: boolean;
  authorization: string | undefined;
}

const IDENTITY = {
  GIT_AUTHOR_NAME: 'Remote Dev',
  GIT_AUTHOR_EMAIL: 'dev@remote.test',
  GIT_COMMITTER_NAME: 'Remote Dev',
  GIT_COMMITTER_EMAIL: 'dev@remote.test',
};

/**
 * A GitHub stand-in for clone and push: bare repositories served over git's smart HTTP protocol
 * by the real `git http-backend` (CGI) on 127.0.0.1, behind HTTP Basic auth that requires the
 * token. Unauthenticated or wrongly authenticated requests get 401, as GitHub answers.
 */
export class GitHttpFake {
  readonly requests: RecordedGitRequest[] = [];
  private server: Server | undefined;
  private root = '';
  private baseUrl = '';

  constructor(private readonly opts: GitHttpFakeOptions) {}

  async start(): Promise<string> {
    if (this.server) throw new Error('GitHttpFake is already started');
    this.root = mkdtempSync(join(tmpdir(), 'git-http-fake-'));
    const server = createServer((request, response) => this.handle(request, response));
    server.keepAliveTimeout = 1000;
    this.baseUrl = await listenOnLoopback(server);
    this.server = server;
    return this.baseUrl;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) await closeServer(server);
    if (this.root) rmSync(this.root, { recursive: true, force: true });
  }

  /** A bare repository `<name>.git` whose `main` holds one commit with these files; its clone URL. */
  createRepo(name: string, files: Record<string, string>, message = 'Initial commit'): string {
    const bare = this.barePath(name);
    git(this.root, ['init', '-q', '--bare', '--initial-branch=main', bare]);
    this.commitFiles(name, files, message);
    return this.urlOf(name);
  }

  /** Someone else pushes to the remote: a commit on `main` with these files. */
  commitFiles(name: string, files: Record<string, string>, message: string): string {
    const work = mkdtempSync(join(this.root, 'work-'));
    try {
      const hasMain = spawnSync('git', ['--git-dir', this.barePath(name), 'rev-parse', '--verify', '--quiet', 'refs/heads/main']).status === 0;
      if (hasMain) git(work, ['clone', '-q', this.barePath(name), '.']);
      else git(work, ['init', '-q', '--initial-branch=main']);
      for (const [path, content] of Object.entries(files)) {
        mkdirSync(dirname(join(work, path)), { recursive: true });
        writeFileSync(join(work, path), content);
      }
      git(work, ['add', '-A']);
      git(work, ['commit', '-q', '-m', message]);
      git(work, ['push', '-q', this.barePath(name), 'HEAD:refs/heads/main']);
      return git(work, ['rev-parse', 'HEAD']).trim();
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }

  urlOf(name: string): string {
    return `${this.baseUrl}/${name}.git`;
  }

  /** `git log --format=<format> <ref>` in the bare repository, one entry per commit. */
  log(name: string, ref = 'main', format = '%s'): string[] {
    return git(this.root, ['--git-dir', this.barePath(name), 'log', `--format=${format}`, ref])
      .split('\n')
      .filter(Boolean);
  }

  /** The bytes of a file at a revision (`git cat-file blob <rev>:<path>`), undefined when absent. */
  show(name: string, revision: string, path: string): Buffer | undefined {
    const out = spawnSync('git', ['--git-dir', this.barePath(name), 'cat-file', 'blob', `${revision}:${path}`]);
    return out.status === 0 ? out.stdout : undefined;
  }

  /** Every push to the repository is refused by a pre-receive hook (as a protected branch would be), until `acceptPushes`. */
  refusePushes(name: string, message = 'pushes are refused here'): void {
    const hook = join(this.barePath(name), 'hooks', 'pre-receive');
    writeFileSync(hook, `#!/bin/sh\necho ${JSON.stringify(message)} >&2\nexit 1\n`, { mode: 0o755 });
  }

  acceptPushes(name: string): void {
    rmSync(join(this.barePath(name), 'hooks', 'pre-receive'), { force: true });
  }

  refs(name: string): string[] {
    return git(this.root, ['--git-dir', this.barePath(name), 'for-each-ref', '--format=%(refname)'])
      .split('\n')
      .filter(Boolean);
  }

  private barePath(name: string): string {
    // `name` or `owner/name`, as GitHub's clone URLs have it.
    if (!/^[a-z0-9-]+(\/[a-z0-9-]+)?$/.test(name))
      throw new Error(`repository name ${name} must be lowercase letters, digits and dashes (optionally owner/name)`);
    return join(this.root, `${name}.git`);
  }

  private authorized(header: string | undefined): boolean {
    const match = /^Basic\s+(\S+)$/i.exec(header ?? '');
    if (!match) return false;
    const decoded = Buffer.from(match[1] ?? '', 'base64').toString('utf8');
    const given = decoded.slice(decoded.indexOf(':') + 1);
    return given === this.opts.token || (this.opts.moreTokens ?? []).includes(given);
  }

  private handle(request: IncomingMessage, response: ServerResponse): void {
    const authorization = request.headers.authorization;
    const authorized = this.authorized(authorization);
    this.requests.push({ method: request.method ?? 'GET', url: request.url ?? '', authorized, authorization });
    if (!authorized) {
      response.writeHead(401, { 'www-authenticate': 'Basic realm="git-http-fake"', 'content-type': 'text/plain' });
      response.end('Bad credentials\n');
      return;
    }
    const url = new URL(request.url ?? '/', 'http://fake');
    const header = (name: string) => String(request.headers[name] ?? '');
    const cgi = spawn('git', ['http-backend'], {
      env: {
        PATH: process.env.PATH,
        GIT_PROJECT_ROOT: this.root,
        GIT_HTTP_EXPORT_ALL: '1',
        GIT_CONFIG_NOSYSTEM: '1',
        PATH_INFO: decodeURIComponent(url.pathname),
        QUERY_STRING: url.search.slice(1),
        REQUEST_METHOD: request.method ?? 'GET',
        CONTENT_TYPE: header('content-type'),
        ...(request.headers['content-length'] ? { CONTENT_LENGTH: header('content-length') } : {}),
        HTTP_CONTENT_ENCODING: header('content-encoding'),
        GIT_PROTOCOL: header('git-protocol'),
        // Authenticated: http-backend then allows receive-pack (push).
        REMOTE_USER: 'x-access-token',
        REMOTE_ADDR: '127.0.0.1',
      },
      stdio: ['pipe', 'pipe', 'ignore'],
    });
    request.pipe(cgi.stdin);
    cgi.stdin.on('error', () => undefined);
    let head = Buffer.alloc(0);
    let headersSent = false;
    cgi.stdout.on('data', (chunk: Buffer) => {
      if (headersSent) {
        response.write(chunk);
        return;
      }
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n') >= 0 ? head.indexOf('\r\n\r\n') + 4 : head.indexOf('\n\n') >= 0 ? head.indexOf('\n\n') + 2 : -1;
      if (end < 0) return;
      let status = 200;
      const headers: Record<string, string> = {};
      for (const line of head.subarray(0, end).toString('utf8').split(/\r?\n/).filter(Boolean)) {
        const colon = line.indexOf(':');
        const [name, value] = [line.slice(0, colon).trim(), line.slice(colon + 1).trim()];
        if (name.toLowerCase() === 'status') status = Number(value.split(' ')[0]);
        else headers[name] = value;
      }
      response.writeHead(status, headers);
      headersSent = true;
      response.write(head.subarray(end));
    });
    cgi.on('close', () => {
      if (!headersSent) response.writeHead(502);
      response.end();
    });
  }
}

function git(cwd: string, args: string[]): string {
  const result = spawnSync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, ...IDENTITY, GIT_CONFIG_NOSYSTEM: '1' } });
  if (result.status !== 0) throw new Error(`git ${args.join(' ')} failed: ${result.stderr}`);
  return result.stdout;
}
