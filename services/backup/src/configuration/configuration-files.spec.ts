import { isSecret, splitEnvFile } from './configuration-files.repository';

describe('configuration secrets', () => {
  it('knows a secret by its name or by a password in a URL', () => {
    expect(isSecret('ANTHROPIC_API_KEY', 'sk-ant-x')).toBe(true);
    expect(isSecret('GITHUB_TOKEN', 'ghp_x')).toBe(true);
    expect(isSecret('POSTGRES_PASSWORD', 'x')).toBe(true);
    expect(isSecret('DATABASE_URL', 'postgres://overskill:s3cret@db:5432/overskill')).toBe(true);
    expect(isSecret('REDIS_URL', 'redis://redis:6379')).toBe(false);
    expect(isSecret('LOG_LEVEL', 'info')).toBe(false);
  });

  it('splits an env file: secrets become placeholders, everything else stays', () => {
    const { plain, secrets } = splitEnvFile('# comment\nLOG_LEVEL=info\nexport GITHUB_TOKEN="ghp_abc"\nDATABASE_URL=postgres://u:p@h/db\n\nTOOLS_ENABLED=a,b');
    expect(plain).toBe(
      '# comment\nLOG_LEVEL=info\nGITHUB_TOKEN=<secret: in secrets/ of an encrypted archive>\nDATABASE_URL=<secret: in secrets/ of an encrypted archive>\n\nTOOLS_ENABLED=a,b',
    );
    expect(secrets).toBe('export GITHUB_TOKEN="ghp_abc"\nDATABASE_URL=postgres://u:p@h/db');
    expect(plain).not.toContain('ghp_abc');
  });
});
