import { ErrorCode } from '@overskill/contracts';
import { toFilesystemAppError } from './filesystem-error';

const fsError = (code: string) => Object.assign(new Error(code), { code, syscall: 'open' });

describe('toFilesystemAppError', () => {
  it.each([
    ['ENOENT', ErrorCode.TOOL_FILE_NOT_FOUND],
    ['ELOOP', ErrorCode.TOOL_PATH_SYMLINK],
    ['ENOTDIR', ErrorCode.TOOL_PATH_INVALID],
    ['EEXIST', ErrorCode.TOOL_PATH_INVALID],
    ['EACCES', ErrorCode.TOOL_PATH_PROTECTED],
  ])('gives %s a code the model can act on', (code, expected) => {
    expect(toFilesystemAppError(fsError(code))?.code).toBe(expected);
  });

  it('leaves other errors alone (they stay INTERNAL and are logged)', () => {
    expect(toFilesystemAppError(fsError('ENOSPC'))).toBeUndefined();
    expect(toFilesystemAppError(new Error('boom'))).toBeUndefined();
    expect(toFilesystemAppError(Object.assign(new Error('x'), { code: 'ENOENT' }))).toBeUndefined(); // no syscall: not from fs
  });
});
