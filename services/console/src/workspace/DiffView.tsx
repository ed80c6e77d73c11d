import type { DiffFile } from '@console/api/types';
import { useMemo, useState } from 'react';
import { Diff, Hunk, parseDiff, type FileData } from 'react-diff-view';
import 'react-diff-view/style/index.css';

// Files render in batches: a 400-file diff shows its first files at once and the rest on request.
const BATCH = 25;

export default function DiffView({ files, mode }: { files: DiffFile[]; mode: 'split' | 'unified' }) {
  const [shown, setShown] = useState(BATCH);
  if (files.length === 0) return <p className="empty">No file changes.</p>;
  return (
    <div className="diff" data-testid="diff-view">
      {files.slice(0, shown).map((f) => (
        <DiffFileView key={`${f.oldPath ?? ''}:${f.path}`} file={f} mode={mode} />
      ))}
      {shown < files.length ? (
        <button type="button" onClick={() => setShown((n) => n + BATCH)}>
          Show {Math.min(BATCH, files.length - shown)} more of {files.length - shown} remaining files
        </button>
      ) : null}
    </div>
  );
}

export function DiffFileView({ file, mode }: { file: DiffFile; mode: 'split' | 'unified' }) {
  const parsed = useMemo<FileData | null>(() => (file.patch ? (parseDiff(file.patch)[0] ?? null) : null), [file.patch]);
  return (
    <article className="diff-file" aria-label={`Changes to ${file.path}`}>
      <h3 className="diff-file-title">
        <code>{file.oldPath && file.oldPath !== file.path ? `${file.oldPath} → ${file.path}` : file.path}</code>{' '}
        <span className="small muted">
          {file.change} · +{file.additions} −{file.deletions}
        </span>
      </h3>
      {file.binary ? <p className="small muted">Binary file.</p> : null}
      {parsed && parsed.hunks.length > 0 ? (
        <Diff viewType={mode} diffType={parsed.type} hunks={parsed.hunks}>
          {(hunks) => hunks.map((hunk) => <Hunk key={hunk.content} hunk={hunk} />)}
        </Diff>
      ) : !file.binary ? (
        <p className="small muted">No line changes to show.</p>
      ) : null}
      {file.patchTruncated ? <p className="small muted">This file's diff is too large and was cut short.</p> : null}
    </article>
  );
}
