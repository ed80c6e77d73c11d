export const STATIC_WEB_TEMPLATE: Record<string, string> = {
  'README.md': '# New app\n\nA static web app built with overskill. Open index.html.\n',
  'index.html':
    '<!doctype html>\n<html lang="en">\n<head>\n  <meta charset="utf-8">\n  <meta name="viewport" content="width=device-width, initial-scale=1">\n  <title>New app</title>\n</head>\n<body>\n  <h1>New app</h1>\n</body>\n</html>\n',
};
