import { ErrorCode, errorHttpStatus } from './errors';
import { HealthPing, Rpc, rpcForSubject, rpcsOwnedBy, SERVICE_NAMES, SUBJECT_PREFIX } from './subjects';

describe('subject registry', () => {
  const all = [...Object.values(Rpc), ...Object.values(HealthPing)];

  it('names every request-reply subject <owner>.<entity>.<verb>.v<N> inside its owner’s namespace', () => {
    for (const def of all) {
      expect(def.subject).toMatch(/^[a-z]+\.[a-z]+\.[a-z]+\.v[1-9][0-9]*$/);
      expect(def.subject.startsWith(`${SUBJECT_PREFIX[def.owner]}.`)).toBe(true);
    }
  });

  it('has no duplicate subjects and finds each by name', () => {
    expect(new Set(all.map((d) => d.subject)).size).toBe(all.length);
    for (const def of all) expect(rpcForSubject(def.subject)).toBe(def);
    expect(rpcForSubject('git.repo.commit.v999')).toBeUndefined();
  });

  it('gives every service a health ping it owns', () => {
    for (const service of SERVICE_NAMES) {
      expect(rpcsOwnedBy(service)).toContain(HealthPing[service]);
    }
  });

  it('maps every error code to an HTTP status', () => {
    for (const code of Object.values(ErrorCode)) {
      expect(errorHttpStatus[code]).toBeGreaterThanOrEqual(400);
      expect(errorHttpStatus[code]).toBeLessThan(600);
    }
  });
});
