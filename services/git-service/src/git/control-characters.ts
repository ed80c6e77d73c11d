function isControl(code: number): boolean {
  return code < 0x20 || code === 0x7f;
}

// True when the text holds a C0 control character or DEL (NUL, newline, escape…).
export function hasControlCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (isControl(text.charCodeAt(i))) return true;
  return false;
}

// User input echoed in an error message: shortened, control characters shown as `?`.
export function printable(text: string, max = 100): string {
  let out = '';
  for (const char of text.slice(0, max)) out += isControl(char.charCodeAt(0)) ? '?' : char;
  return out;
}
