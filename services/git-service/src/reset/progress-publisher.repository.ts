import { toBinary, type MessageShape } from '@bufbuild/protobuf';
import { Inject, Injectable } from '@nestjs/common';
import { AppError, ErrorCode, gitV1 } from '@overskill/contracts';
import { NATS_CONNECTION } from '@overskill/messaging';
import type { NatsConnection } from 'nats';

// Only subjects from gitProgressSubject(), so a request cannot make this service publish elsewhere.
const PROGRESS_SUBJECT = /^gitprogress\.[A-Za-z0-9_-]{8,64}$/;

// Progress of a long run over the volume on core NATS, for the caller that named the subject.
@Injectable()
export class ProgressPublisherRepository {
  constructor(@Inject(NATS_CONNECTION) private readonly nc: NatsConnection) {}

  open(subject: string): (progress: MessageShape<typeof gitV1.RepoResetProgressSchema>) => void {
    if (!subject) return () => undefined;
    if (!PROGRESS_SUBJECT.test(subject)) throw new AppError(ErrorCode.VALIDATION_FAILED, 'progress_subject must come from gitProgressSubject()');
    return (progress) => this.nc.publish(subject, toBinary(gitV1.RepoResetProgressSchema, progress));
  }
}
