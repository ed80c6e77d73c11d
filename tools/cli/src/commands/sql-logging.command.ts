import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { commonV1, SERVICE_NAMES, sqlLoggingSubject, type ServiceName } from '@overskill/contracts';
import { defineCommand } from '../command';
import { CliError } from '../cli-context';
import { parseDuration } from '../progress/units';

// Replicas answer at once; a second is plenty on a loaded machine and bounds the wait.
const GATHER_MS = 1000;
const MAX_SECONDS = 86_400;

// The seeds' "SQL logging switched on at run time": every replica of the chosen services logs
// each statement (text and parameter count, never the values) until it switches itself off.
export const sqlLoggingCommand = defineCommand({
  words: ['db', 'sql-logging'],
  help: `  db sql-logging on|off [--service <s>]   Log every SQL statement (its text and parameter count, never the values) in every
         [--for <dur>] [--json]           replica of a service (default all) for a while (default 10m, at most 24h), or stop`,
  options: { service: { type: 'string' }, for: { type: 'string' } },
  positionals: { min: 1, max: 1 },
  async run(ctx, values, [state]) {
    if (state !== 'on' && state !== 'off') throw new CliError(`db sql-logging takes on or off, not "${state}"`);
    if (values.service !== undefined && !(SERVICE_NAMES as readonly string[]).includes(values.service)) {
      throw new CliError(`db sql-logging: no service "${values.service}"; one of ${SERVICE_NAMES.join(', ')}`);
    }
    if (state === 'off' && values.for !== undefined) throw new CliError('db sql-logging off takes no --for');
    const seconds = values.for === undefined ? 600 : parseDuration(values.for, '--for');
    if (seconds < 1 || seconds > MAX_SECONDS) throw new CliError(`db sql-logging: --for is 1s to 24h, got ${values.for}`);
    const services = values.service ? [values.service as ServiceName] : SERVICE_NAMES;
    const request = toBinary(commonV1.SqlLoggingSetRequestSchema, create(commonV1.SqlLoggingSetRequestSchema, { enabled: state === 'on', seconds }));
    const answers = (await Promise.all(services.map((service) => ctx.gather(sqlLoggingSubject(service), request, GATHER_MS))))
      .flat()
      .map((data) => fromBinary(commonV1.SqlLoggingSetResponseSchema, data))
      .sort((a, b) => `${a.service} ${a.instanceId}`.localeCompare(`${b.service} ${b.instanceId}`));
    const code = answers.length === 0 ? 1 : 0;
    if (values.json) {
      return {
        text: JSON.stringify({
          state,
          replicas: answers.map((a) => ({ service: a.service, instance: a.instanceId, enabled: a.enabled, until: a.until || null })),
        }),
        code,
      };
    }
    if (answers.length === 0) return { text: `no replica of ${services.join(', ')} answered; is the platform running?`, code };
    const lines = answers.map((a) => `  ${a.service.padEnd(12)} ${a.instanceId.padEnd(32)} ${a.enabled ? `on until ${a.until}` : 'off'}`);
    return { text: [`SQL logging ${state} in ${answers.length} replica${answers.length === 1 ? '' : 's'}:`, ...lines].join('\n'), code };
  },
});
