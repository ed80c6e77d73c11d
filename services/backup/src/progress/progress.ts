// How far a long step is: `done` of `total` (0 = unknown) in bytes, WAL segments, tables, files or repositories.
export type Progress = (step: string, done: number, total: number, unit?: 'bytes' | 'segments' | 'tables' | 'files' | 'repositories') => void;

export const noProgress: Progress = () => undefined;
