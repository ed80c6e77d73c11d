import { AppError, ErrorCode } from '@overskill/contracts';

export const APP_ID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

// An app id is also a folder name on the volume: anything else could point elsewhere.
export function assertAppId(appId: string): void {
  if (!APP_ID_PATTERN.test(appId)) throw new AppError(ErrorCode.GIT_REPO_NOT_FOUND, `"${appId.slice(0, 64)}" is not an app id`);
}
