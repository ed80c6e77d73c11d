import { AppError, ErrorCode } from '@overskill/contracts';
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

export interface SecretKey {
  id: string;
  key: Buffer;
}

// AES-256-GCM with a fresh 96-bit nonce per value. The key id travels with the ciphertext, so a
// new key encrypts from now on while older ones still decrypt; `context` (the row and field) is
// authenticated, so a ciphertext copied to another row does not decrypt.
export class SecretBox {
  constructor(private readonly keys: readonly SecretKey[]) {}

  requireConfigured(): void {
    if (this.keys.length === 0) throw notConfigured();
  }

  seal(plaintext: string, context: string): string {
    const active = this.keys[0];
    if (!active) throw notConfigured();
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', active.key, iv);
    cipher.setAAD(Buffer.from(context));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return ['v1', active.id, iv.toString('base64'), cipher.getAuthTag().toString('base64'), body.toString('base64')].join(':');
  }

  open(sealed: string, context: string): string {
    const [version, keyId, iv, tag, body] = sealed.split(':');
    const key = this.keys.find((k) => k.id === keyId);
    if (version !== 'v1' || !key || !iv || !tag || body === undefined) {
      throw new AppError(
        ErrorCode.PROJECT_SECRETS_NOT_CONFIGURED,
        `A stored credential is sealed with key ${keyId ?? '?'}, which PROJECT_SECRET_KEYS no longer holds; add it back or re-enter the credential`,
      );
    }
    const decipher = createDecipheriv('aes-256-gcm', key.key, Buffer.from(iv, 'base64'));
    decipher.setAAD(Buffer.from(context));
    decipher.setAuthTag(Buffer.from(tag, 'base64'));
    try {
      return Buffer.concat([decipher.update(Buffer.from(body, 'base64')), decipher.final()]).toString('utf8');
    } catch {
      // The tag does not verify: another key under the same id, or the value or its row changed.
      throw new AppError(
        ErrorCode.PROJECT_SECRETS_NOT_CONFIGURED,
        `A stored credential does not open with key ${keyId} of PROJECT_SECRET_KEYS (a different key under that id, or the value was altered); restore the key or re-enter the credential`,
      );
    }
  }
}

function notConfigured(): AppError {
  return new AppError(
    ErrorCode.PROJECT_SECRETS_NOT_CONFIGURED,
    'Projects need PROJECT_SECRET_KEYS (<key id>:<32 random bytes in base64>) on the orchestrator to store credentials encrypted',
  );
}
