import { AppError, ErrorCode } from '@overskill/contracts';
import { createContext, Script } from 'node:vm';

// A model-supplied regular expression runs here. JavaScript's engine backtracks, so a pattern
// like (a+)+$ can take minutes on one line; running it inside a vm context with a timeout lets
// V8 interrupt it, and the pattern is refused instead of freezing the runner.
const context = createContext({ fn: undefined, args: undefined, result: undefined }) as { fn: unknown; args: unknown; result: unknown };
const fileHasMatchingLine = new Script(`(function (text, whole, line) {
  if (!whole.test(text)) return false;
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\\n', start);
    if (end === -1) end = text.length;
    let stop = end;
    if (stop > start && text.charCodeAt(stop - 1) === 13) stop -= 1;
    if (line.test(text.slice(start, stop))) return true;
    if (end === text.length) break;
    start = end + 1;
  }
  return false;
})`).runInContext(context) as (text: string, whole: RegExp, line: RegExp) => boolean;

const matchingLineNumbers = new Script(`(function (text, line, max) {
  const found = [];
  let number = 1;
  let start = 0;
  while (start < text.length && found.length < max) {
    let end = text.indexOf('\\n', start);
    if (end === -1) end = text.length;
    let stop = end;
    if (stop > start && text.charCodeAt(stop - 1) === 13) stop -= 1;
    if (line.test(text.slice(start, stop))) found.push(number);
    if (end === text.length) break;
    start = end + 1;
    number += 1;
  }
  return found;
})`).runInContext(context) as (text: string, line: RegExp, max: number) => number[];

// Sets `result`, so the call itself runs under runInContext's timeout.
const call = new Script('result = fn.apply(undefined, args)');

export interface LineMatcher {
  // Whether any line matches (lines split on \n, a trailing \r dropped, as ripgrep --crlf does).
  hasMatch(text: string): boolean;
  // 1-based numbers of the first `max` matching lines.
  matchingLines(text: string, max: number): number[];
}

export function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export function compileLineMatcher(pattern: string, opts: { fixedStrings: boolean; caseSensitive: boolean; timeBudgetMs: number }): LineMatcher {
  const source = opts.fixedStrings ? escapeRegExp(pattern) : pattern;
  const flags = opts.caseSensitive ? '' : 'i';
  let line: RegExp;
  let whole: RegExp;
  try {
    line = new RegExp(source, flags);
    whole = new RegExp(source, `${flags}m`);
  } catch (err) {
    throw new AppError(ErrorCode.TOOL_SEARCH_PATTERN_INVALID, `Invalid regular expression: ${(err as Error).message}`);
  }
  const deadline = Date.now() + opts.timeBudgetMs;
  const run = <T>(fn: (...args: never[]) => T, args: unknown[]): T => {
    const remaining = deadline - Date.now();
    if (remaining <= 0) throw tooSlow(opts.timeBudgetMs);
    context.fn = fn;
    context.args = args;
    try {
      call.runInContext(context, { timeout: Math.max(1, Math.floor(remaining)) });
      return context.result as T;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ERR_SCRIPT_EXECUTION_TIMEOUT') throw tooSlow(opts.timeBudgetMs);
      throw err;
    } finally {
      context.fn = context.args = context.result = undefined;
    }
  };
  return {
    hasMatch: (text) => run(fileHasMatchingLine, [text, whole, line]),
    matchingLines: (text, max) => run(matchingLineNumbers, [text, line, max]),
  };
}

function tooSlow(budgetMs: number): AppError {
  return new AppError(ErrorCode.TOOL_SEARCH_PATTERN_INVALID, `The pattern took longer than ${budgetMs} ms (catastrophic backtracking?); simplify it`);
}
