import { buildSystemPrompt, splitHistory } from './run-context';

describe('splitHistory', () => {
  const m = (role: string, content: string) => ({ role, content });

  it('keeps the newest messages verbatim and condenses the ones before', () => {
    const history = [m('user', 'u1'), m('assistant', 'a1'), m('user', 'u2'), m('assistant', 'a2'), m('user', 'u3'), m('assistant', 'a3')];
    const split = splitHistory(history, 4, 10);
    expect(split.recent).toEqual([m('user', 'u2'), m('assistant', 'a2'), m('user', 'u3'), m('assistant', 'a3')]);
    expect(split.condensed).toEqual([m('user', 'u1'), m('assistant', 'a1')]);
  });

  it('merges consecutive messages of one role, starts with the user and ends with the assistant', () => {
    const history = [m('assistant', 'orphan'), m('user', 'u1'), m('user', 'u2 (run failed, no reply)'), m('assistant', 'a2'), m('user', 'u3')];
    const split = splitHistory(history, 10, 10);
    expect(split.recent).toEqual([m('user', 'u1\n\nu2 (run failed, no reply)'), m('assistant', 'a2')]);
  });

  it('condenses at most the given number of older messages', () => {
    const history = Array.from({ length: 10 }, (_, i) => m(i % 2 ? 'assistant' : 'user', `m${i}`));
    expect(splitHistory(history, 2, 3).condensed.map((x) => x.content)).toEqual(['m5', 'm6', 'm7']);
  });
});

describe('buildSystemPrompt', () => {
  it('lists the app, its files (capped), the files touched and the condensed history', () => {
    const prompt = buildSystemPrompt({
      appName: 'Shop',
      appDescription: 'Sells\nthings',
      files: ['b.css', 'a.html', 'c.js'],
      fileLimit: 2,
      touched: ['a.html', 'a.html'],
      condensed: [{ role: 'user', content: 'make it   blue\nplease' }],
    });
    expect(prompt).toContain('App: Shop\nDescription: Sells things');
    expect(prompt).toContain('Files in the workspace (3, first 2 shown):\n- a.html\n- b.css\n');
    expect(prompt).toContain('Files you changed earlier in this run:\n- a.html\n');
    expect(prompt).toContain('- user: make it blue please');
  });
});
