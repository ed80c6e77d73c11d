import { toBinary, type MessageShape } from '@bufbuild/protobuf';
import { Inject, Injectable } from '@nestjs/common';
import { AppError, ErrorCode, gitV1 } from '@overskill/contracts';
import { NATS_CONNECTION, sentBeforeReply } from '@overskill/messaging';
import type { NatsConnection } from 'nats';

// Only subjects from gitProgressSubject(), so a request cannot make this service publish elsewhere.
const PROGRESS_SUBJECT = /^gitprogress\.[A-Za-z0-9_-]{8,64}$/;

type Publish = (progress: MessageShape<typeof gitV1.RepoResetProgressSchema>) => void;

// Progress of a long run over the volume on core NATS, for the caller that named the subject.
@Injectable()
export class ProgressPublisherRepository {
  constructor(@Inject(NATS_CONNECTION) private readonly nc: NatsConnection) {}

  // `work` with a publisher for `subject`; its answer waits until the progress is at nats-server.
  async during<T>(subject: string, work: (publish: Publish) => Promise<T>): Promise<T> {
    const publish = this.open(subject);
    return subject ? sentBeforeReply(this.nc, () => work(publish)) : work(publish);
  }

  private open(subject: string): Publish {
    if (!subject) return () => undefined;
    if (!PROGRESS_SUBJECT.test(subject)) throw new AppError(ErrorCode.VALIDATION_FAILED, 'progress_subject must come from gitProgressSubject()');
    return (progress) => this.nc.publish(subject, toBinary(gitV1.RepoResetProgressSchema, progress));
  }
}
