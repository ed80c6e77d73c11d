import { AppError, ErrorCode } from '@overskill/contracts';

// What a failed clone or push means for the caller, from git's (already redacted) stderr.
export function remoteFailure(stderr: string): AppError {
  const reason = firstReason(stderr);
  if (
    /Authentication failed|could not read (Username|Password)|terminal prompts disabled|returned error: 40[13]|HTTP 40[13]|Permission to .* denied/i.test(
      stderr,
    )
  ) {
    return new AppError(ErrorCode.GIT_REMOTE_AUTH_FAILED, 'The remote refused the credentials; check the token and its access to the repository');
  }
  if (/Remote branch .* not found/i.test(stderr)) return new AppError(ErrorCode.GIT_BRANCH_NOT_FOUND, reason);
  if (/\[rejected\]|non-fast-forward|fetch first|failed to push some refs/i.test(stderr)) {
    return new AppError(ErrorCode.GIT_PUSH_REJECTED, 'The remote has commits this repository does not have; nothing was overwritten');
  }
  if (/returned error: 404|repository .* not found|not found|does not appear to be a git repository/i.test(stderr)) {
    return new AppError(ErrorCode.GIT_REMOTE_NOT_FOUND, 'The remote repository does not exist, or the token cannot see it');
  }
  if (/transport '.*' not allowed|unsupported URL protocol/i.test(stderr)) return new AppError(ErrorCode.GIT_REMOTE_URL_INVALID, reason);
  return new AppError(ErrorCode.GIT_REMOTE_UNAVAILABLE, `The remote could not be reached: ${reason}`);
}

function firstReason(stderr: string): string {
  const line =
    stderr
      .split('\n')
      .map((l) => l.trim())
      .find((l) => /^(fatal|error):/.test(l)) ??
    stderr.trim().split('\n')[0] ??
    '';
  return line.replace(/^(fatal|error):\s*/, '').slice(0, 300) || 'git gave no reason';
}
