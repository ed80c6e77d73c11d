import { AppError, ErrorCode } from '@overskill/contracts';

// An fs error that reached the tool boundary without a code: the workspace changed under the
// tool (a folder swapped, a file removed) or the disk refused. The model can act on these,
// so they get codes; anything else stays INTERNAL and is logged.
export function toFilesystemAppError(err: unknown): AppError | undefined {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code !== 'string' || !(err as NodeJS.ErrnoException).syscall) return undefined;
  switch (code) {
    case 'ENOENT':
      return new AppError(ErrorCode.TOOL_FILE_NOT_FOUND, 'The path disappeared while the tool was using it; look again and retry');
    case 'ELOOP':
      return new AppError(ErrorCode.TOOL_PATH_SYMLINK, 'The path became a symbolic link while the tool was using it; links are not followed');
    case 'ENOTDIR':
    case 'EISDIR':
    case 'EEXIST':
    case 'ENOTEMPTY':
    case 'EINVAL':
      return new AppError(
        ErrorCode.TOOL_PATH_INVALID,
        'The path changed shape while the tool was using it (a file where a folder was, or the reverse); look again and retry',
      );
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return new AppError(ErrorCode.TOOL_PATH_PROTECTED, 'The workspace refused the change (permissions)');
    default:
      return undefined;
  }
}
