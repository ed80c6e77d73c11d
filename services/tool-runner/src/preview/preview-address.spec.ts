import { isPreviewId, newPreviewId, parsePreviewHost, previewOrigin } from './preview-address';

describe('preview addresses', () => {
  const id = 'abcdefghijklmnopqrst';
  const sha = 'a'.repeat(40);

  it('makes distinct DNS-safe ids of 20 base32 letters', () => {
    const ids = new Set(Array.from({ length: 1000 }, newPreviewId));
    expect(ids.size).toBe(1000);
    for (const made of ids) expect(isPreviewId(made)).toBe(true);
  });

  it('reads the preview id, and a version, from the first label under the preview domain', () => {
    expect(parsePreviewHost(`${id}.preview.localhost:3080`, 'preview.localhost')).toEqual({ previewId: id });
    expect(parsePreviewHost(`${id.toUpperCase()}.Preview.Localhost.`, 'preview.localhost')).toEqual({ previewId: id });
    expect(parsePreviewHost(`${id}-${sha}.preview.example.com`, 'preview.example.com')).toEqual({ previewId: id, sha });
  });

  it('refuses anything else: other domains, deeper names, short ids, short shas', () => {
    for (const host of [
      undefined,
      '',
      'preview.localhost',
      `${id}.localhost`,
      `x.${id}.preview.localhost`,
      `${id.slice(1)}.preview.localhost`,
      `${id}-abc123.preview.localhost`,
      `${id}.preview.localhost.evil.com`,
      `${id}1.preview.localhost`,
    ]) {
      expect(parsePreviewHost(host, 'preview.localhost')).toBeUndefined();
    }
  });

  it('builds the origin of the latest version and of a version on the base URL', () => {
    expect(previewOrigin(new URL('http://preview.localhost:3080'), { previewId: id })).toBe(`http://${id}.preview.localhost:3080`);
    expect(previewOrigin(new URL('https://preview.example.com'), { previewId: id, sha })).toBe(`https://${id}-${sha}.preview.example.com`);
  });
});
