import { ErrorCode } from '@overskill/contracts';
import { compileLineMatcher } from './line-matcher';

describe('compileLineMatcher', () => {
  const m = (pattern: string, opts: Partial<{ fixedStrings: boolean; caseSensitive: boolean }> = {}) =>
    compileLineMatcher(pattern, { fixedStrings: false, caseSensitive: true, timeBudgetMs: 2000, ...opts });

  it("matches line by line, dropping a CRLF's \\r, and never counts the empty tail after a final newline", () => {
    expect(m('b$').matchingLines('a\r\nb\r\nc\n', 10)).toEqual([2]);
    expect(m('^$').matchingLines('a\n\nb\n', 10)).toEqual([2]);
    expect(m('x\\sy').hasMatch('x\ny')).toBe(false);
    expect(m('foo').matchingLines('foo\nfoo\nfoo', 2)).toEqual([1, 2]);
  });

  it('supports fixed strings and case-insensitive search', () => {
    expect(m('a.b', { fixedStrings: true }).hasMatch('axb')).toBe(false);
    expect(m('a.b', { fixedStrings: true }).hasMatch('a.b')).toBe(true);
    expect(m('HELLO', { caseSensitive: false }).hasMatch('hello')).toBe(true);
  });

  it('refuses an invalid expression with its message', () => {
    expect(() => m('(unclosed')).toThrow(expect.objectContaining({ code: ErrorCode.TOOL_SEARCH_PATTERN_INVALID }));
  });

  it('stops a catastrophically backtracking pattern instead of freezing the process', () => {
    const slow = compileLineMatcher('(a+)+$', { fixedStrings: false, caseSensitive: true, timeBudgetMs: 200 });
    const started = Date.now();
    expect(() => slow.hasMatch(`${'a'.repeat(40)}b`)).toThrow(expect.objectContaining({ code: ErrorCode.TOOL_SEARCH_PATTERN_INVALID }));
    expect(Date.now() - started).toBeLessThan(2000);
  });
});
