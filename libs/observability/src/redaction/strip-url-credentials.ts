// Matches the userinfo part of any URL in free text (postgres://user:secret@host → postgres://host).
const URL_USERINFO = /([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@]+@/gi;

/** Removes `user:pass@` from every URL in the text, so error messages and logs never carry credentials. */
export function stripUrlCredentials(text: string): string {
  return text.replace(URL_USERINFO, '$1');
}
