import { CliError } from './cli-context';
import { defineCommand, findCommand, parseCommandArgs } from './command';

const cleanup = defineCommand({
  words: ['git', 'cleanup'],
  help: '  git cleanup',
  options: { 'dry-run': { type: 'boolean' }, grace: { type: 'string' } },
  run: async () => '',
});
const create = defineCommand({
  words: ['keys', 'create'],
  help: '  keys create',
  options: { team: { type: 'string', required: true }, role: { type: 'string', required: true } },
  run: async () => '',
});
const revoke = defineCommand({ words: ['keys', 'revoke'], help: '  keys revoke', options: {}, positionals: { min: 1, max: 1 }, run: async () => '' });

function refusal(fn: () => unknown): CliError {
  try {
    fn();
  } catch (err) {
    if (err instanceof CliError) return err;
    throw err;
  }
  throw new Error('accepted');
}

describe('parseCommandArgs', () => {
  it('gives typed values for switches and strings, with --json and --help common to every command', () => {
    const values = { 'dry-run': true, grace: '7d', json: true };
    expect(parseCommandArgs(cleanup, ['--dry-run', '--grace', '7d', '--json'])).toEqual({ values, positionals: [] });
    expect(parseCommandArgs(create, ['--team=acme', '--role', 'owner'])).toEqual({ values: { team: 'acme', role: 'owner' }, positionals: [] });
  });

  it('refuses a value given to a switch, and a misspelt option with the one it resembles', () => {
    expect(refusal(() => parseCommandArgs(cleanup, ['--dry-run=true'])).message).toBe(
      "git cleanup: Option '--dry-run' does not take an argument; see `npx overskill git cleanup --help`",
    );
    const typo = refusal(() => parseCommandArgs(cleanup, ['--dryrun']));
    expect(typo.message).toBe("git cleanup: Unknown option '--dryrun' (did you mean --dry-run?); see `npx overskill git cleanup --help`");
    expect(typo.exitCode).toBe(2);
    expect(refusal(() => parseCommandArgs(cleanup, ['--everything'])).message).not.toContain('did you mean');
  });

  it('names every missing required option, an empty value, and a wrong number of arguments', () => {
    expect(refusal(() => parseCommandArgs(create, [])).message).toContain('missing required options --team, --role');
    expect(refusal(() => parseCommandArgs(create, ['--team', '', '--role', 'owner'])).message).toContain('--team needs a value');
    expect(refusal(() => parseCommandArgs(revoke, [])).message).toContain('takes 1 argument after the command, got 0');
    expect(refusal(() => parseCommandArgs(revoke, ['a', 'b'])).message).toContain('got 2 (unexpected "b")');
    expect(refusal(() => parseCommandArgs(cleanup, ['now'])).message).toContain('takes 0 arguments');
  });

  it('lets --help through without the required options', () => {
    expect(parseCommandArgs(create, ['--help']).values.help).toBe(true);
  });
});

describe('findCommand', () => {
  it('takes the command named by the leading words and leaves the rest to the parser', () => {
    expect(findCommand([cleanup, create, revoke], ['keys', 'revoke', 'k1', '--json'])).toEqual({ command: revoke, rest: ['k1', '--json'] });
    expect(findCommand([cleanup, create, revoke], ['keys', 'rotate'])).toBeUndefined();
  });
});
