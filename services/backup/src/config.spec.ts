import { backupEnvSchema } from './config';

const base = { DATABASE_URL: 'postgres://u:p@127.0.0.1:5432/overskill', WORKSPACES_DIR: '/data/workspaces', BACKUP_DIR: '/data/backups' };
const key1 = 'age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p';
const key2 = 'age1lggyhqrw2nlhcxprm67z43rta597azn8gknawjehu9d9dl0jq3yqqvfafg';

describe('backup configuration', () => {
  it('defaults to the seed schedule, 30-day retention and no second copy or encryption', () => {
    const env = backupEnvSchema.parse({ ...base, BACKUP_COPY_DIR: '', BACKUP_AGE_IDENTITY_FILE: '' });
    expect(env).toMatchObject({
      BACKUP_SCHEDULE_FULL: '0 2 * * *',
      BACKUP_SCHEDULE_DATABASE: '0 */6 * * *',
      BACKUP_SCHEDULE_DRILL: '0 4 * * 0',
      BACKUP_RETENTION_DAYS: 30,
      BACKUP_AGE_RECIPIENTS: [],
    });
    expect(env.BACKUP_COPY_DIR).toBeUndefined();
    expect(env.BACKUP_AGE_IDENTITY_FILE).toBeUndefined();
  });

  it('takes the recipients, and refuses a private key inside a backup folder', () => {
    expect(backupEnvSchema.parse({ ...base, BACKUP_AGE_RECIPIENTS: `${key1}, ${key2}` }).BACKUP_AGE_RECIPIENTS).toEqual([key1, key2]);
    expect(() => backupEnvSchema.parse({ ...base, BACKUP_AGE_RECIPIENTS: 'not-a-key' })).toThrow(/age public keys/);
    expect(() => backupEnvSchema.parse({ ...base, BACKUP_AGE_IDENTITY_FILE: '/data/backups/keys/online.key' })).toThrow(/not be inside a backup folder/);
    expect(() => backupEnvSchema.parse({ ...base, BACKUP_COPY_DIR: '/offsite', BACKUP_AGE_IDENTITY_FILE: '/offsite/k' })).toThrow(
      /not be inside a backup folder/,
    );
    expect(() => backupEnvSchema.parse({ ...base, BACKUP_COPY_DIR: '/data/backups/copy' })).toThrow(/outside BACKUP_DIR/);
    expect(() => backupEnvSchema.parse({ ...base, BACKUP_SCHEDULE_FULL: '0 2 * *' })).toThrow(/cron/);
    expect(() => backupEnvSchema.parse({ ...base, BACKUP_GFS: '7,4' })).toThrow(/daily,weekly,monthly/);
  });

  it('keeps the WAL copy apart from the WAL archive and away from the private key', () => {
    expect(backupEnvSchema.parse({ ...base, BACKUP_WAL_COPY_DIR: '/data/backups-copy/wal' }).BACKUP_WAL_COPY_DIR).toBe('/data/backups-copy/wal');
    expect(backupEnvSchema.parse({ ...base, BACKUP_WAL_COPY_DIR: ' ' }).BACKUP_WAL_COPY_DIR).toBeUndefined();
    // Unset BACKUP_WAL_DIR means BACKUP_DIR/wal: the copy may not sit inside it, nor hold it.
    expect(() => backupEnvSchema.parse({ ...base, BACKUP_WAL_COPY_DIR: '/data/backups/wal/copy' })).toThrow(/apart from the WAL archive/);
    expect(() => backupEnvSchema.parse({ ...base, BACKUP_WAL_COPY_DIR: '/data/backups' })).toThrow(/apart from the WAL archive/);
    expect(() => backupEnvSchema.parse({ ...base, BACKUP_WAL_DIR: '/wal', BACKUP_WAL_COPY_DIR: '/wal/' })).toThrow(/apart from the WAL archive/);
    expect(() => backupEnvSchema.parse({ ...base, BACKUP_WAL_COPY_DIR: '/walcopy', BACKUP_AGE_IDENTITY_FILE: '/walcopy/k' })).toThrow(
      /not be inside a backup folder/,
    );
  });
});
