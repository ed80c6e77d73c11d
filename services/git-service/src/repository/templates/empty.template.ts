export const EMPTY_TEMPLATE: Record<string, string> = {
  'README.md': '# New app\n\nBuilt with overskill.\n',
};
