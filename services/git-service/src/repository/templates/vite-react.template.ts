// A real minimal Vite + React project (what `npm create vite -- --template react` starts
// from, trimmed): `npm install && npm run dev` runs it. Dependencies are not installed here.
export const VITE_REACT_TEMPLATE: Record<string, string> = {
  '.gitignore': ['node_modules', 'dist', 'dist-ssr', '*.local', '.vite', 'npm-debug.log*', '.DS_Store', ''].join('\n'),
  'README.md':
    '# New app\n\nA Vite + React app built with overskill.\n\n```sh\nnpm install\nnpm run dev      # http://localhost:5173\nnpm run build    # static files in dist/\n```\n',
  'package.json': `${JSON.stringify(
    {
      name: 'overskill-app',
      private: true,
      version: '0.0.0',
      type: 'module',
      scripts: { dev: 'vite', build: 'vite build', preview: 'vite preview' },
      dependencies: { react: '^19.1.0', 'react-dom': '^19.1.0' },
      devDependencies: { '@vitejs/plugin-react': '^5.0.0', vite: '^7.1.0' },
    },
    null,
    2,
  )}\n`,
  'vite.config.js':
    "import { defineConfig } from 'vite';\nimport react from '@vitejs/plugin-react';\n\n// https://vite.dev/config/\nexport default defineConfig({\n  plugins: [react()],\n});\n",
  'index.html':
    '<!doctype html>\n<html lang="en">\n  <head>\n    <meta charset="UTF-8" />\n    <meta name="viewport" content="width=device-width, initial-scale=1.0" />\n    <title>New app</title>\n  </head>\n  <body>\n    <div id="root"></div>\n    <script type="module" src="/src/main.jsx"></script>\n  </body>\n</html>\n',
  'src/main.jsx':
    "import { StrictMode } from 'react';\nimport { createRoot } from 'react-dom/client';\nimport App from './App.jsx';\nimport './index.css';\n\ncreateRoot(document.getElementById('root')).render(\n  <StrictMode>\n    <App />\n  </StrictMode>,\n);\n",
  'src/App.jsx':
    'import { useState } from \'react\';\n\nexport default function App() {\n  const [count, setCount] = useState(0);\n  return (\n    <main>\n      <h1>New app</h1>\n      <button type="button" onClick={() => setCount((c) => c + 1)}>\n        count is {count}\n      </button>\n    </main>\n  );\n}\n',
  'src/index.css':
    ':root {\n  font-family: system-ui, sans-serif;\n  line-height: 1.5;\n  color-scheme: light dark;\n}\n\nbody {\n  margin: 0;\n  display: grid;\n  place-items: center;\n  min-height: 100vh;\n}\n\nbutton {\n  font: inherit;\n  padding: 0.5em 1em;\n  border-radius: 8px;\n  cursor: pointer;\n}\n',
};
