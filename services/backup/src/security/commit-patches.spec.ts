import { secretFingerprint } from '@overskill/observability';
import { secretsInPatches } from './commit-patches';
import { parseNpmAudit } from './npm-audit.repository';

describe('secretsInPatches', () => {
  const token = `ghp_${'a1B2c3D4e5'.repeat(4)}`;

  it('names the commit, the file and the line of an added credential, and ignores removed lines', () => {
    const patches = [
      '\0commit 1111111111111111111111111111111111111111',
      '',
      'diff --git a/config.js b/config.js',
      '--- a/config.js',
      '+++ b/config.js',
      '@@ -3,0 +4,2 @@',
      "+const url = 'https://api.github.com';",
      `+const token = '${token}';`,
      '\0commit 2222222222222222222222222222222222222222',
      'diff --git a/config.js b/config.js',
      '--- a/config.js',
      '+++ /dev/null',
      '@@ -1,5 +0,0 @@',
      `-const token = '${token}';`,
    ].join('\n');
    expect(secretsInPatches(patches)).toEqual({
      commits: 2,
      secrets: [{ kind: 'github_token', line: 5, commit: '1'.repeat(40), path: 'config.js', fingerprint: secretFingerprint('ghp_', token) }],
    });
  });
});

describe('parseNpmAudit', () => {
  it('reads the vulnerabilities of a report', () => {
    const report = { auditReportVersion: 2, vulnerabilities: { 'left-pad': { severity: 'high', range: '*', via: [{ title: 'bad', range: '<1.4.0' }] } } };
    expect(parseNpmAudit(JSON.stringify(report), 1, undefined).report?.vulnerabilities['left-pad']?.severity).toBe('high');
  });

  it('says plainly why there is no report', () => {
    const refused = {
      message: 'request to http://127.0.0.1:9/-/npm/v1/security/advisories/bulk failed, reason: connect ECONNREFUSED 127.0.0.1:9',
      error: { summary: '', detail: '' },
    };
    expect(parseNpmAudit(JSON.stringify(refused), 1, 'http://127.0.0.1:9/').unavailable).toBe(
      'the registry http://127.0.0.1:9/ could not be reached or refused the audit (request to http://127.0.0.1:9/-/npm/v1/security/advisories/bulk failed, reason: connect ECONNREFUSED 127.0.0.1:9)',
    );
    expect(
      parseNpmAudit(JSON.stringify({ error: { code: 'ENOLOCK', summary: 'This command requires an existing lockfile.' } }), 1, undefined).unavailable,
    ).toContain('no package-lock.json');
    expect(parseNpmAudit('npm ERR! oops', 1, undefined).unavailable).toBe('npm audit gave no report (exit 1)');
  });
});
