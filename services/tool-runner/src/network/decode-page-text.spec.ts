import { decodePageText } from './decode-page-text';

const latin1Page = (meta: string) => Buffer.concat([Buffer.from(`<html><head>${meta}</head><body>`), Buffer.from([0x93, 0x80, 0x94]), Buffer.from('</body>')]);

describe('decodePageText', () => {
  it('takes the charset from the Content-Type header first', () => {
    expect(decodePageText(latin1Page(''), 'windows-1252', true)).toContain('“€”');
  });

  it('falls back to a <meta charset> or http-equiv declaration for HTML only', () => {
    expect(decodePageText(latin1Page('<meta charset="windows-1252">'), undefined, true)).toContain('“€”');
    expect(decodePageText(latin1Page('<meta http-equiv="Content-Type" content="text/html; charset=windows-1252">'), undefined, true)).toContain('“€”');
    expect(decodePageText(latin1Page('<meta charset="windows-1252">'), undefined, false)).toContain('\ufffd');
  });

  it('lets a byte-order mark win over the header, and drops it', () => {
    const body = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('café')]);
    expect(decodePageText(body, 'windows-1252', true)).toBe('café');
  });

  it('reads an unknown label as UTF-8 instead of failing', () => {
    expect(decodePageText(Buffer.from('naïve'), 'x-no-such-charset', true)).toBe('naïve');
  });
});
