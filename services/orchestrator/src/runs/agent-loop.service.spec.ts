import { commitMessageFor } from './agent-loop.service';

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
