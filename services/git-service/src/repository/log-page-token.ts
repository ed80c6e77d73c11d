import { AppError, ErrorCode } from '@overskill/contracts';

export interface LogPage {
  // Where the first page started: later pages walk the same history even after new commits.
  startSha: string;
  skip: number;
}

export function encodeLogPageToken(page: LogPage): string {
  return Buffer.from(`${page.startSha}:${page.skip}`).toString('base64url');
}

export function decodeLogPageToken(token: string): LogPage {
  const [startSha = '', skip = ''] = Buffer.from(token, 'base64url').toString('utf8').split(':');
  if (!/^[0-9a-f]{40,64}$/.test(startSha) || !/^\d{1,9}$/.test(skip)) {
    throw new AppError(ErrorCode.VALIDATION_FAILED, 'page_token is not valid; pass the next_page_token of the previous page');
  }
  return { startSha, skip: Number(skip) };
}
