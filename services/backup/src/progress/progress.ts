// How far a long step is: `done` of `total` (0 = unknown) in bytes, WAL segments or tables.
export type Progress = (step: string, done: number, total: number, unit?: 'bytes' | 'segments' | 'tables') => void;

export const noProgress: Progress = () => undefined;
