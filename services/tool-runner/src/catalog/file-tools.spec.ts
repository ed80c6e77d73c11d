import { ErrorCode } from '@overskill/contracts';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHarness, type Harness } from '../__tests__/tool-harness';

describe('file tools', () => {
  let h: Harness;
  beforeEach(() => (h = createHarness()));
  afterEach(() => h.close());
  const file = (name: string) => readFileSync(join(h.root, name), 'utf8');

  it('write_file creates folders and reports new files; read_file reads back, whole or by lines', async () => {
    expect(await h.run('write_file', { path: 'src/a.txt', content: 'one\ntwo\nthree\n' })).toMatchObject({
      isError: false,
      output: 'Wrote src/a.txt (14 bytes, new file)',
      bytesWritten: 14n,
    });
    expect((await h.run('write_file', { path: 'src/a.txt', content: 'one\ntwo\nthree\n' })).output).toBe('Wrote src/a.txt (14 bytes)');
    expect((await h.run('read_file', { path: 'src/a.txt' })).output).toBe('one\ntwo\nthree\n');
    expect((await h.run('read_file', { path: 'src/a.txt', start_line: 2, end_line: 3, line_numbers: true })).output).toBe('2| two\n3| three');
    expect((await h.run('read_file', { path: 'src/a.txt', start_line: 9 })).output).toMatch(/has 3 lines/);
    writeFileSync(join(h.root, 'bin.dat'), Buffer.from([1, 0, 2]));
    expect((await h.run('read_file', { path: 'bin.dat' })).output).toMatch(/binary file \(3 bytes\)/);
  });

  it('write_file refuses content over the file size limit', async () => {
    h.close();
    h = createHarness({ env: { TOOL_MAX_FILE_SIZE_BYTES: '10' } });
    expect(await h.run('write_file', { path: 'a.txt', content: 'x'.repeat(11) })).toMatchObject({ isError: true, errorCode: ErrorCode.TOOL_FILE_TOO_LARGE });
  });

  it('update_file replaces exactly one occurrence, or all of them when asked', async () => {
    writeFileSync(join(h.root, 'a.js'), 'const a = 1;\nconst b = 1;\n');
    expect(await h.run('update_file', { path: 'a.js', search: ' = 1;', replace: ' = 2;' })).toMatchObject({
      isError: true,
      errorCode: ErrorCode.TOOL_EDIT_AMBIGUOUS,
    });
    expect(await h.run('update_file', { path: 'a.js', search: 'const c', replace: 'x' })).toMatchObject({
      isError: true,
      errorCode: ErrorCode.TOOL_EDIT_NO_MATCH,
    });
    expect((await h.run('update_file', { path: 'a.js', search: 'const b = 1;', replace: 'const b = 3;' })).output).toBe(
      'Updated a.js: replaced 1 occurrence (first at line 2)',
    );
    expect((await h.run('update_file', { path: 'a.js', search: 'const', replace: 'let', replace_all: true })).output).toMatch(/replaced 2 occurrences/);
    expect(file('a.js')).toBe('let a = 1;\nlet b = 3;\n');
  });

  it('update_file matches a CRLF file with LF search text and keeps CRLF', async () => {
    writeFileSync(join(h.root, 'w.txt'), 'a\r\nb\r\nc\r\n');
    expect((await h.run('update_file', { path: 'w.txt', search: 'a\nb', replace: 'x\ny' })).isError).toBe(false);
    expect(file('w.txt')).toBe('x\r\ny\r\nc\r\n');
  });

  it('line_replace checks the expected old lines before changing anything', async () => {
    writeFileSync(join(h.root, 'l.txt'), '1\n2\n3\n4\n5\n');
    const mismatch = await h.run('line_replace', { path: 'l.txt', first_line: 2, last_line: 3, old_lines: '2\nX', new_lines: 'two' });
    expect(mismatch).toMatchObject({ isError: true, errorCode: ErrorCode.TOOL_LINES_MISMATCH });
    expect(mismatch.output).toContain('2| 2\n3| 3');
    expect(file('l.txt')).toBe('1\n2\n3\n4\n5\n');
    expect((await h.run('line_replace', { path: 'l.txt', first_line: 2, last_line: 4, old_lines: '2\n...\n4', new_lines: 'two\nthree' })).output).toBe(
      'Replaced lines 2-4 of l.txt with 2 lines',
    );
    expect(file('l.txt')).toBe('1\ntwo\nthree\n5\n');
    await h.run('line_replace', { path: 'l.txt', first_line: 1, last_line: 1, old_lines: '1', new_lines: '' });
    expect(file('l.txt')).toBe('two\nthree\n5\n');
    expect(await h.run('line_replace', { path: 'l.txt', first_line: 3, last_line: 9, old_lines: '5', new_lines: '' })).toMatchObject({
      errorCode: ErrorCode.TOOL_LINES_MISMATCH,
    });
    expect(await h.run('line_replace', { path: 'l.txt', first_line: 3, last_line: 2, old_lines: '', new_lines: '' })).toMatchObject({
      errorCode: ErrorCode.TOOL_INPUT_INVALID,
    });
  });

  it('delete_file and rename_file', async () => {
    writeFileSync(join(h.root, 'a.txt'), 'a');
    expect((await h.run('rename_file', { from: 'a.txt', to: 'docs/b.txt' })).output).toBe('Renamed a.txt to docs/b.txt');
    expect(file('docs/b.txt')).toBe('a');
    expect((await h.run('delete_file', { path: 'docs/b.txt' })).output).toBe('Deleted docs/b.txt');
    expect(await h.run('delete_file', { path: 'docs/b.txt' })).toMatchObject({ errorCode: ErrorCode.TOOL_FILE_NOT_FOUND });
    expect(await h.run('delete_file', { path: 'docs' })).toMatchObject({ errorCode: ErrorCode.TOOL_PATH_NOT_REGULAR_FILE });
  });
});
