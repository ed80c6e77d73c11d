import { Inject, Injectable } from '@nestjs/common';
import { cp, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { BACKUP_ENV, type BackupEnv } from '../config';

// A variable is a secret when its name says so or its value carries a password (a URL's user:pass@).
const SECRET_NAME = /(KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|PRIVATE)/i;

export function isSecret(name: string, value: string): boolean {
  return SECRET_NAME.test(name) || /^[a-z][a-z0-9+.-]*:\/\/[^/@\s]*:[^/@\s]+@/i.test(value);
}

// `KEY=value` lines split into the shareable part and the secrets; comments and blanks stay shareable.
export function splitEnvFile(text: string): { plain: string; secrets: string } {
  const plain: string[] = [];
  const secrets: string[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=(.*)$/.exec(line);
    if (m && isSecret(m[1], m[2].trim().replace(/^["']|["']$/g, ''))) {
      secrets.push(line);
      plain.push(`${m[1]}=<secret: in secrets/ of an encrypted archive>`);
    } else plain.push(line);
  }
  return { plain: plain.join('\n'), secrets: secrets.join('\n') };
}

// The configuration a `config` backup takes: the files and folders in BACKUP_CONFIG_PATHS and the
// environment this service runs with; secrets are written only when the archive is encrypted.
@Injectable()
export class ConfigurationFilesRepository {
  constructor(@Inject(BACKUP_ENV) private readonly env: BackupEnv) {}

  async collect(target: string, withSecrets: boolean): Promise<{ files: string[]; secretFiles: string[] }> {
    const files: string[] = [];
    const secretFiles: string[] = [];
    await mkdir(join(target, 'config'), { recursive: true });
    const envLines = Object.entries(process.env)
      .filter(([k]) => /^(BACKUP|DATABASE|REDIS|NATS|WORKSPACES|AI|TOOL|TOOLS|GIT|GATEWAY|ANTHROPIC|OTEL|LOG|OVERSKILL)_/.test(k) || k === 'NODE_ENV')
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => `${k}=${v ?? ''}`)
      .join('\n');
    const split = splitEnvFile(envLines);
    await writeFile(join(target, 'config', 'service.env'), `${split.plain}\n`);
    files.push('config/service.env');
    if (withSecrets) {
      await mkdir(join(target, 'secrets'), { recursive: true, mode: 0o700 });
      await writeFile(join(target, 'secrets', 'service.env'), `${split.secrets}\n`, { mode: 0o600 });
      secretFiles.push('secrets/service.env');
    }
    for (const [i, source] of this.env.BACKUP_CONFIG_PATHS.entries()) {
      const info = await stat(source).catch(() => null);
      if (!info) throw new Error(`configuration path ${source} (BACKUP_CONFIG_PATHS) does not exist`);
      const name = `${i}-${basename(source)}`;
      if (info.isFile() && basename(source).startsWith('.env')) {
        const parts = splitEnvFile(await readFile(source, 'utf8'));
        await writeFile(join(target, 'config', name), parts.plain);
        files.push(`config/${name}`);
        if (withSecrets) {
          await writeFile(join(target, 'secrets', name), parts.secrets, { mode: 0o600 });
          secretFiles.push(`secrets/${name}`);
        }
      } else {
        await cp(source, join(target, 'config', name), { recursive: true, dereference: false });
        files.push(`config/${name}`);
      }
    }
    return { files, secretFiles };
  }
}
