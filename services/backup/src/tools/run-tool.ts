import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';

export interface ToolRun {
  stdout: string;
  stderr: string;
  // With `outputFile`: what was written there, hashed on the way (no second read).
  sha256?: string;
  bytes?: number;
}

// In a pipeline the first stage's "error:" line is the cause; later stages only see its end.
function summarize(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const errors = lines.filter((l) => /error/i.test(l));
  return (errors.length > 0 ? errors.slice(0, 2) : lines.slice(-3)).join(' | ') || 'no output';
}

// A proven tool (pg_dump, git, age, zstd, tar, redis-check-rdb) failed; `tool` names it for the operator.
export class ToolFailure extends Error {
  constructor(
    readonly tool: string,
    readonly exitCode: number | null,
    readonly stderr: string,
  ) {
    super(`${tool} failed${exitCode === null ? '' : ` (exit ${exitCode})`}: ${summarize(stderr)}`);
  }
}

export interface ToolOptions {
  cwd?: string;
  env?: Record<string, string>;
  input?: string;
  // Standard input read from this file instead; `onInput` hears how many bytes went in so far.
  inputFile?: string;
  onInput?: (bytes: number) => void;
  // Standard output written to this file, its sha256 computed as it streams by.
  outputFile?: string;
  // The name in errors when `command` is a shell running a pipeline.
  label?: string;
  // Another user (PostgreSQL's server tools refuse to run as root).
  user?: { uid: number; gid: number };
}

// Runs one command without a shell; arguments are never interpolated.
export function runTool(command: string, args: string[], opts: ToolOptions = {}): Promise<ToolRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: opts.cwd,
      env: { ...process.env, ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
      uid: opts.user?.uid,
      gid: opts.user?.gid,
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const sink = opts.outputFile ? { file: createWriteStream(opts.outputFile), hash: createHash('sha256'), bytes: 0 } : null;
    let writeError: Error | undefined;
    const written = sink ? new Promise<void>((ok) => sink.file.once('finish', ok).once('close', ok)) : Promise.resolve();
    if (sink) {
      // A failed write (a full disk) stops the tool: it would otherwise block on a pipe nobody reads.
      sink.file.once('error', (e: NodeJS.ErrnoException) => {
        writeError = new Error(`${e.code === 'ENOSPC' ? 'No space left on device' : e.message} (writing ${opts.outputFile})`);
        child.stdout.destroy();
        child.kill('SIGTERM');
      });
      child.stdout.on('data', (d: Buffer) => {
        sink.hash.update(d);
        sink.bytes += d.length;
        if (!sink.file.write(d)) {
          child.stdout.pause();
          sink.file.once('drain', () => child.stdout.resume());
        }
      });
      child.stdout.once('end', () => sink.file.end());
    } else child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.once('error', (e) => reject(new ToolFailure(opts.label ?? command, null, e.message)));
    child.once('close', (code) => {
      const result: ToolRun = { stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') };
      if (writeError) return reject(new ToolFailure(opts.label ?? command, null, writeError.message));
      if (code !== 0) return reject(new ToolFailure(opts.label ?? command, code, result.stderr || result.stdout));
      void written.then(() =>
        writeError
          ? reject(new ToolFailure(opts.label ?? command, null, writeError.message))
          : resolve(sink ? { ...result, sha256: sink.hash.digest('hex'), bytes: sink.bytes } : result),
      );
    });
    child.stdin.on('error', () => undefined);
    if (opts.inputFile) {
      let bytes = 0;
      const source = createReadStream(opts.inputFile);
      source.on('data', (chunk) => opts.onInput?.((bytes += chunk.length)));
      source.once('error', (e) => child.stdin.destroy(e));
      source.pipe(child.stdin);
    } else child.stdin.end(opts.input ?? '');
  });
}

// A fixed pipeline script for bash with `pipefail`, so a failure in any stage fails the whole;
// values reach it only as positional parameters ("$1" …), never spliced into the script.
export function runPipeline(label: string, script: string, args: string[], opts: Omit<ToolOptions, 'label'> = {}): Promise<ToolRun> {
  return runTool('bash', ['-c', `set -euo pipefail\n${script}`, label, ...args], { ...opts, label });
}
