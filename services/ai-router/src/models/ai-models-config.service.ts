import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { AppError, ErrorCode } from '@overskill/contracts';
import { ConfigError, LOGGER } from '@overskill/observability';
import { readFileSync, unwatchFile, watchFile } from 'node:fs';
import type { Logger } from 'pino';
import { AI_ROUTER_ENV, type AiRouterEnv } from '../config';
import { ActiveAliasRepository } from './active-alias.repository';
import { defaultAiModelsConfig, parseAiModelsConfig, type AiModelsConfig, type AliasConfig } from './ai-models.config';

// How often a replica looks at the shared model switch: the issue wants every replica to obey
// a switch within a second.
const SWITCH_POLL_MS = 250;
const FILE_POLL_MS = 500;

/** The current model config (hot-reloaded from AI_MODELS_FILE) and the runtime switch of `primary`. */
@Injectable()
export class AiModelsConfigService implements OnModuleInit, OnApplicationShutdown {
  private config: AiModelsConfig;
  private activeAlias = 'primary';
  private poller?: NodeJS.Timeout;
  private readonly listeners: Array<(config: AiModelsConfig) => void> = [];

  constructor(
    @Inject(AI_ROUTER_ENV) private readonly env: AiRouterEnv,
    private readonly switchStore: ActiveAliasRepository,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    // A bad file at start is fatal (one clear line); a bad edit later keeps the last good config.
    try {
      this.config = env.AI_MODELS_FILE ? this.readFile(env.AI_MODELS_FILE) : defaultAiModelsConfig(env);
    } catch (err) {
      throw new ConfigError(['AI_MODELS_FILE'], [(err as Error).message]);
    }
  }

  async onModuleInit(): Promise<void> {
    const file = this.env.AI_MODELS_FILE;
    if (file) {
      watchFile(file, { interval: FILE_POLL_MS }, () => this.reload(file));
    }
    await this.refreshSwitch();
    this.poller = setInterval(() => void this.refreshSwitch(), SWITCH_POLL_MS);
    this.poller.unref();
  }

  onApplicationShutdown(): void {
    if (this.poller) clearInterval(this.poller);
    if (this.env.AI_MODELS_FILE) unwatchFile(this.env.AI_MODELS_FILE);
  }

  current(): AiModelsConfig {
    return this.config;
  }

  onChange(listener: (config: AiModelsConfig) => void): void {
    this.listeners.push(listener);
  }

  /** The alias that serves `primary` right now. */
  active(): string {
    return this.activeAlias;
  }

  /** Resolves what a caller asked for: an alias, or a provider model name that an alias maps to. */
  resolve(requested: string): AliasConfig {
    const name = requested || 'primary';
    const aliases = this.config.aliases;
    if (name === 'primary' && this.activeAlias !== 'primary' && aliases[this.activeAlias]) return aliases[this.activeAlias];
    const byAlias = aliases[name];
    if (byAlias && name !== 'image') return byAlias;
    const byModel = Object.values(aliases).find((a) => a.alias !== 'image' && a.model === name);
    if (byModel) return byModel;
    const known = Object.keys(aliases).filter((a) => a !== 'image');
    throw new AppError(
      ErrorCode.AI_MODEL_ALIAS_UNKNOWN,
      `Unknown model "${name.slice(0, 100)}"; use one of the aliases ${known.join(', ')} or a model they map to`,
    );
  }

  async switchTo(alias: string): Promise<{ active: string; previous: string }> {
    if (!this.config.aliases[alias] || alias === 'image') {
      const known = Object.keys(this.config.aliases).filter((a) => a !== 'image');
      throw new AppError(ErrorCode.AI_MODEL_ALIAS_UNKNOWN, `Cannot switch to "${alias.slice(0, 100)}"; use one of ${known.join(', ')}`);
    }
    const previous = await this.switchStore.set(alias === 'primary' ? null : alias);
    this.activeAlias = alias;
    return { active: alias, previous: previous ?? 'primary' };
  }

  private async refreshSwitch(): Promise<void> {
    try {
      const stored = await this.switchStore.get();
      this.activeAlias = stored && this.config.aliases[stored] ? stored : 'primary';
    } catch (err) {
      // Redis down: keep obeying the last switch we saw.
      this.logger.debug({ err }, 'could not read the model switch');
    }
  }

  private reload(file: string): void {
    try {
      this.config = this.readFile(file);
      this.logger.info({ file, aliases: Object.keys(this.config.aliases) }, 'model config reloaded');
      for (const listener of this.listeners) listener(this.config);
    } catch (err) {
      this.logger.error({ file, err: (err as Error).message }, 'model config change rejected; keeping the previous config');
    }
  }

  private readFile(file: string): AiModelsConfig {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new Error(`AI_MODELS_FILE ${file} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    return parseAiModelsConfig(text, this.env, file);
  }
}
