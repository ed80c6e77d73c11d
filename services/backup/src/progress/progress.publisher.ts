import { create, toBinary } from '@bufbuild/protobuf';
import { Inject, Injectable } from '@nestjs/common';
import { AppError, backupV1, ErrorCode } from '@overskill/contracts';
import { NATS_CONNECTION, sentBeforeReply } from '@overskill/messaging';
import type { NatsConnection } from 'nats';
import { noProgress, type Progress } from './progress';

// Only subjects from backupProgressSubject(), so a request cannot make this service publish elsewhere.
const PROGRESS_SUBJECT = /^backupprogress\.[A-Za-z0-9_-]{8,64}$/;
// At most a few messages a second per step; the last one of a step always goes out.
const MIN_INTERVAL_MS = 250;

@Injectable()
export class ProgressPublisher {
  constructor(@Inject(NATS_CONNECTION) private readonly nc: NatsConnection) {}

  // `work` with a progress on `subject`; its answer waits until the progress is at nats-server.
  async during<T>(subject: string, work: (progress: Progress) => Promise<T>): Promise<T> {
    const progress = this.open(subject);
    return progress === noProgress ? work(progress) : sentBeforeReply(this.nc, () => work(progress));
  }

  private open(subject: string): Progress {
    if (!subject) return noProgress;
    if (!PROGRESS_SUBJECT.test(subject)) throw new AppError(ErrorCode.VALIDATION_FAILED, 'progress_subject must come from backupProgressSubject()');
    let last = 0;
    let lastStep = '';
    return (step, done, total, unit = 'bytes') => {
      const now = Date.now();
      if (step === lastStep && now - last < MIN_INTERVAL_MS && done !== total) return;
      last = now;
      lastStep = step;
      this.nc.publish(
        subject,
        toBinary(backupV1.BackupProgressSchema, create(backupV1.BackupProgressSchema, { step, done: BigInt(done), total: BigInt(total), unit })),
      );
    };
  }
}
