import { AppError, ErrorCode, isEntityId } from '@overskill/contracts';

// An app id is also a folder name on the volume: anything else could point elsewhere.
export function assertAppId(appId: string): void {
  if (!isEntityId(appId)) throw new AppError(ErrorCode.GIT_REPO_NOT_FOUND, `"${appId.slice(0, 64)}" is not an app id`);
}
