import { readImageHeader } from './image-header';

function pngHeader(width: number, height: number): Buffer {
  const b = Buffer.alloc(33);
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]).copy(b, 0);
  b.writeUInt32BE(13, 8);
  b.write('IHDR', 12, 'latin1');
  b.writeUInt32BE(width, 16);
  b.writeUInt32BE(height, 20);
  return b;
}

describe('readImageHeader', () => {
  it('reads PNG, GIF, JPEG and the three WebP flavours', () => {
    expect(readImageHeader(pngHeader(640, 480))).toEqual({ mimeType: 'image/png', width: 640, height: 480 });
    const gif = Buffer.concat([Buffer.from('GIF89a', 'latin1'), Buffer.from([0x20, 0x03, 0x58, 0x02])]);
    expect(readImageHeader(gif)).toEqual({ mimeType: 'image/gif', width: 800, height: 600 });
    // SOI, an APP0 segment to skip, then SOF0 with height 300 and width 400.
    const jpeg = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x04, 0x00, 0x00, 0xff, 0xc0, 0x00, 0x11, 0x08, 0x01, 0x2c, 0x01, 0x90, 0x03]);
    expect(readImageHeader(jpeg)).toEqual({ mimeType: 'image/jpeg', width: 400, height: 300 });
    const riff = (chunk: string, payload: number[]) => {
      const b = Buffer.alloc(30);
      b.write('RIFF', 0, 'latin1');
      b.write('WEBP', 8, 'latin1');
      b.write(chunk, 12, 'latin1');
      Buffer.from(payload).copy(b, 20);
      return b;
    };
    expect(readImageHeader(riff('VP8X', [0, 0, 0, 0, 0xff, 0x07, 0x00, 0xff, 0x03, 0x00]))).toEqual({ mimeType: 'image/webp', width: 2048, height: 1024 });
    expect(readImageHeader(riff('VP8 ', [0, 0, 0, 0x9d, 0x01, 0x2a, 0x40, 0x01, 0xf0, 0x00]))).toEqual({ mimeType: 'image/webp', width: 320, height: 240 });
    // VP8L: 14 bits width-1 then 14 bits height-1 after the 0x2f signature.
    const bits = (100 - 1) | ((50 - 1) << 14);
    const lossless = riff('VP8L', [0x2f, bits & 0xff, (bits >> 8) & 0xff, (bits >> 16) & 0xff, (bits >> 24) & 0xff]);
    expect(readImageHeader(lossless)).toEqual({ mimeType: 'image/webp', width: 100, height: 50 });
  });

  it('says nothing about what is not an image', () => {
    expect(readImageHeader(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>'))).toBeUndefined();
    expect(readImageHeader(Buffer.alloc(0))).toBeUndefined();
    expect(readImageHeader(Buffer.from([0xff, 0xd8, 0xff, 0xd9]))).toBeUndefined();
  });
});
