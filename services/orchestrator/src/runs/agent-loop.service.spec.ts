import { commitMessageFor, concurrentGroups } from './agent-loop.service';

describe('commitMessageFor', () => {
  it('uses the first line of the request as the subject', () => {
    expect(commitMessageFor('  Add a dark mode\nand make it the default ')).toBe('Add a dark mode');
  });

  it('shortens long requests to a conventional subject line', () => {
    const subject = commitMessageFor('x'.repeat(200));
    expect(subject).toHaveLength(72);
    expect(subject.endsWith('...')).toBe(true);
  });

  it('never produces an empty message', () => {
    expect(commitMessageFor('   \n  ')).toBe('Update app');
  });
});

describe('concurrentGroups', () => {
  const readOnly = new Set(['read_file', 'search_files']);
  const use = (name: string, id: string) => ({ name, id });

  it('groups consecutive read-only calls and keeps every write alone and in order', () => {
    const groups = concurrentGroups([use('read_file', '1'), use('search_files', '2'), use('write_file', '3'), use('write_file', '4'), use('read_file', '5')], readOnly);
    expect(groups.map((g) => g.map((u) => u.id))).toEqual([['1', '2'], ['3'], ['4'], ['5']]);
  });
});
