import { parseArgs } from './parse-args';

describe('parseArgs', () => {
  it('splits commands from flags, with or without =', () => {
    expect(parseArgs(['keys', 'create', '--team', 'acme', '--role=owner', '--json'])).toEqual({ positional: ['keys', 'create'], flags: { team: 'acme', role: 'owner', json: true } });
  });

  it('treats a flag followed by another flag as a switch', () => {
    expect(parseArgs(['status', '--json', '--verbose'])).toEqual({ positional: ['status'], flags: { json: true, verbose: true } });
    expect(parseArgs(['-h']).flags.help).toBe(true);
  });
});
