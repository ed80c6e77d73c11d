import { findSecrets, secretFingerprint } from './secret-patterns';

describe('findSecrets', () => {
  const anthropic = `sk-ant-api03-${'A1b2C3d4'.repeat(6)}`;
  const openai = `sk-proj-${'x9Y8z7W6'.repeat(5)}`;
  const ghp = `ghp_${'a1B2c3D4e5'.repeat(4)}`;
  const pat = `github_pat_11ABCDEFG0_${'q'.repeat(40)}`;

  it('finds provider keys and GitHub tokens with their line, never returning the secret', () => {
    const text = ['const a = 1;', `ANTHROPIC_API_KEY=${anthropic}`, `openai: "${openai}" and ${ghp}`, `token=${pat}`].join('\n');
    const found = findSecrets(text);
    expect(found).toEqual([
      { kind: 'anthropic_key', line: 2, fingerprint: secretFingerprint('sk-ant-', anthropic) },
      { kind: 'provider_key', line: 3, fingerprint: secretFingerprint('sk-proj-', openai) },
      { kind: 'github_token', line: 3, fingerprint: secretFingerprint('ghp_', ghp) },
      { kind: 'github_token', line: 4, fingerprint: secretFingerprint('github_pat_', pat) },
    ]);
    const serialized = JSON.stringify(found);
    for (const secret of [anthropic, openai, ghp, pat]) expect(serialized).not.toContain(secret.slice(12));
    expect(found[0]!.fingerprint).toMatch(/^sk-ant-…#[0-9a-f]{12}$/);
  });

  it('reports an Anthropic key once, not again as a generic sk- key', () => {
    expect(findSecrets(anthropic).map((m) => m.kind)).toEqual(['anthropic_key']);
  });

  it('ignores text that only looks close: placeholders, short ids, prose', () => {
    expect(findSecrets('OPENAI_API_KEY=sk-...\nask-ant colony\nghp_short\nuse the sk- prefix')).toEqual([]);
  });
});
