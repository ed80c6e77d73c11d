import { AppError, ErrorCode } from '@overskill/contracts';
import { randomBytes } from 'node:crypto';
import { SecretBox } from './secret-box';

describe('SecretBox', () => {
  const k1 = { id: 'k1', key: randomBytes(32) };
  const k2 = { id: 'k2', key: randomBytes(32) };

  it('seals with the first key and opens with any key it still holds (rotation)', () => {
    const old = new SecretBox([k1]).seal('ghp_secret', 'project-1:token');
    expect(old).not.toContain('ghp_secret');
    expect(old.split(':')[1]).toBe('k1');
    const rotated = new SecretBox([k2, k1]);
    expect(rotated.open(old, 'project-1:token')).toBe('ghp_secret');
    expect(rotated.seal('ghp_secret', 'project-1:token').split(':')[1]).toBe('k2');
  });

  it('never seals the same value the same way twice', () => {
    const box = new SecretBox([k1]);
    expect(box.seal('x', 'c')).not.toBe(box.seal('x', 'c'));
  });

  it('refuses a ciphertext moved to another row or tampered with', () => {
    const box = new SecretBox([k1]);
    const sealed = box.seal('ghp_secret', 'project-1:token');
    const refused = expect.objectContaining({ code: ErrorCode.PROJECT_SECRETS_NOT_CONFIGURED }) as AppError;
    expect(() => box.open(sealed, 'project-2:token')).toThrow(refused);
    const parts = sealed.split(':');
    parts[4] = Buffer.from('ghp_other!').toString('base64');
    expect(() => box.open(parts.join(':'), 'project-1:token')).toThrow(refused);
  });

  it('says so with its code when another key is configured under the same id', () => {
    const sealed = new SecretBox([k1]).seal('ghp_secret', 'project-1:token');
    const other = new SecretBox([{ id: 'k1', key: randomBytes(32) }]);
    expect(() => other.open(sealed, 'project-1:token')).toThrow(/does not open with key k1 of PROJECT_SECRET_KEYS/);
  });

  it('names the missing key instead of failing obscurely', () => {
    const sealed = new SecretBox([k1]).seal('x', 'c');
    expect(() => new SecretBox([k2]).open(sealed, 'c')).toThrow(expect.objectContaining({ code: ErrorCode.PROJECT_SECRETS_NOT_CONFIGURED }) as AppError);
    expect(() => new SecretBox([]).seal('x', 'c')).toThrow(expect.objectContaining({ code: ErrorCode.PROJECT_SECRETS_NOT_CONFIGURED }) as AppError);
  });
});
