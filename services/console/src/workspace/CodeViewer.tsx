import { EditorState, type Extension } from '@codemirror/state';
import { basicSetup, EditorView } from 'codemirror';
import { useEffect, useRef } from 'react';

// Languages load on demand too: a CSS file never pulls in the JavaScript grammar.
async function languageFor(path: string): Promise<Extension[]> {
  const ext = path.slice(path.lastIndexOf('.') + 1).toLowerCase();
  if (['js', 'jsx', 'mjs', 'cjs', 'ts', 'tsx'].includes(ext)) {
    const { javascript } = await import('@codemirror/lang-javascript');
    return [javascript({ jsx: ext.endsWith('x'), typescript: ext.startsWith('t') })];
  }
  if (ext === 'html' || ext === 'htm') return [(await import('@codemirror/lang-html')).html()];
  if (ext === 'css') return [(await import('@codemirror/lang-css')).css()];
  if (ext === 'json') return [(await import('@codemirror/lang-json')).json()];
  if (ext === 'md' || ext === 'markdown') return [(await import('@codemirror/lang-markdown')).markdown()];
  return [];
}

// A read-only CodeMirror 6 view with syntax highlighting.
export default function CodeViewer({ path, content }: { path: string; content: string }) {
  const host = useRef<HTMLDivElement>(null);
  useEffect(() => {
    let view: EditorView | null = null;
    let cancelled = false;
    void languageFor(path).then((language) => {
      if (cancelled || !host.current) return;
      view = new EditorView({
        parent: host.current,
        state: EditorState.create({
          doc: content,
          extensions: [
            basicSetup,
            EditorState.readOnly.of(true),
            EditorView.editable.of(false),
            EditorView.contentAttributes.of({ 'aria-label': `Contents of ${path}`, tabindex: '0' }),
            ...language,
          ],
        }),
      });
    });
    return () => {
      cancelled = true;
      view?.destroy();
    };
  }, [path, content]);
  return <div ref={host} className="code-viewer" data-testid="code-viewer" />;
}
