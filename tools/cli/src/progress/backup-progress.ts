import { fromBinary } from '@bufbuild/protobuf';
import { backupProgressSubject, backupV1 } from '@overskill/contracts';
import { randomBytes } from 'node:crypto';
import type { CliContext } from '../cli-context';
import { formatBytes } from './units';

// While a long step runs on the backup service it publishes its progress on a subject of this
// call's own: a line with bytes, rate and ETA on a terminal, or JSON lines on stderr with --json.
export async function withProgress<T>(ctx: CliContext, label: string, json: boolean, work: (progressSubject: string) => Promise<T>): Promise<T> {
  const show = !json && process.stderr.isTTY;
  const subject = backupProgressSubject(randomBytes(12).toString('base64url'));
  const started = Date.now();
  let stepStarted = started;
  let step = '';
  const unsubscribe = ctx.subscribe(subject, (data) => {
    const p = fromBinary(backupV1.BackupProgressSchema, data);
    const done = Number(p.done);
    const total = Number(p.total);
    if (p.step !== step) [step, stepStarted] = [p.step, Date.now()];
    const seconds = Math.max((Date.now() - stepStarted) / 1000, 0.001);
    const rate = done / seconds;
    const etaS = total > 0 && rate > 0 ? Math.max(0, Math.round((total - done) / rate)) : null;
    if (json) {
      process.stderr.write(`${JSON.stringify({ progress: label, step: p.step, unit: p.unit, done, total, ratePerS: Math.round(rate), etaS })}\n`);
      return;
    }
    if (!show) return;
    const amount = (n: number) => (p.unit === 'bytes' ? formatBytes(n) : `${n} ${p.unit}`);
    const of = total > 0 ? ` of ${amount(total)}` : '';
    process.stderr.write(`\r\x1b[K${label}: ${p.step} ${amount(done)}${of}, ${amount(Math.round(rate))}/s${etaS === null ? '' : `, ETA ${etaS} s`}`);
  });
  const timer = show ? setInterval(() => step || process.stderr.write(`\r${label}… ${Math.round((Date.now() - started) / 1000)} s`), 1000) : undefined;
  try {
    return await work(subject);
  } finally {
    unsubscribe();
    if (timer) clearInterval(timer);
    if (show) process.stderr.write('\r\x1b[K');
  }
}
