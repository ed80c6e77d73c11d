// Thrown by loadConfig before a service starts; names every bad variable so one restart fixes them all.
export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';

  constructor(
    readonly variables: string[],
    problems: string[],
  ) {
    super(`Invalid configuration: ${problems.join('; ')}`);
    this.name = 'ConfigError';
  }
}
