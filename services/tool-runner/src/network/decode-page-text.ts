import iconv from 'iconv-lite';

// Bytes of a fetched page to text. The charset comes, in order, from a byte-order mark, the
// Content-Type header, and for HTML a <meta> declaration in the first 1024 bytes (the HTML
// standard's prescan); the fallback is UTF-8. iconv-lite rather than TextDecoder: Node 20's
// TextDecoder decodes windows-1252 as Latin-1, losing curly quotes, dashes and the euro sign.

const PRESCAN_BYTES = 1024;

function bomCharset(body: Buffer): string | undefined {
  if (body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf) return 'utf-8';
  if (body[0] === 0xfe && body[1] === 0xff) return 'utf-16be';
  if (body[0] === 0xff && body[1] === 0xfe) return 'utf-16le';
  return undefined;
}

function metaCharset(body: Buffer): string | undefined {
  const head = body.subarray(0, PRESCAN_BYTES).toString('latin1');
  return /<meta[^>]+charset\s*=\s*["']?\s*([\w.:-]+)/i.exec(head)?.[1]?.toLowerCase();
}

function known(label: string | undefined): string | undefined {
  return label && iconv.encodingExists(label) ? label : undefined;
}

export function decodePageText(body: Buffer, headerCharset: string | undefined, isHtml: boolean): string {
  const charset = known(bomCharset(body)) ?? known(headerCharset) ?? (isHtml ? known(metaCharset(body)) : undefined) ?? 'utf-8';
  // iconv-lite strips a BOM by default, as browsers do.
  return iconv.decode(body, charset);
}
