import { Inject, Injectable } from '@nestjs/common';
import { TOOL_RUNNER_ENV, type ToolRunnerEnv } from '../config';

export type RegistryLookup =
  | { status: 'found'; versions: string[]; distTags: Record<string, string> }
  | { status: 'missing' }
  | { status: 'unreachable'; reason: string }
  | { status: 'disabled' };

// The npm registry (TOOL_NPM_REGISTRY_URL), asked with a short timeout. Not reaching it is an
// answer too: the caller goes on and says the package was not checked.
@Injectable()
export class NpmRegistryRepository {
  constructor(@Inject(TOOL_RUNNER_ENV) private readonly env: Pick<ToolRunnerEnv, 'TOOL_NPM_REGISTRY_URL' | 'TOOL_NPM_LOOKUP' | 'TOOL_NPM_LOOKUP_TIMEOUT_MS'>) {}

  get registryUrl(): string {
    return this.env.TOOL_NPM_REGISTRY_URL;
  }

  async lookup(name: string): Promise<RegistryLookup> {
    if (!this.env.TOOL_NPM_LOOKUP) return { status: 'disabled' };
    // Scoped names keep their @ and encode the slash, as npm does.
    const url = `${this.env.TOOL_NPM_REGISTRY_URL.replace(/\/+$/, '')}/${name.replace('/', '%2f')}`;
    let res: Response;
    try {
      res = await fetch(url, {
        // The abbreviated document: versions and dist-tags without every readme.
        headers: { accept: 'application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8' },
        signal: AbortSignal.timeout(this.env.TOOL_NPM_LOOKUP_TIMEOUT_MS),
      });
    } catch (err) {
      return {
        status: 'unreachable',
        reason: (err as Error).name === 'TimeoutError' ? `no answer within ${this.env.TOOL_NPM_LOOKUP_TIMEOUT_MS} ms` : 'connection failed',
      };
    }
    if (res.status === 404) {
      await res.body?.cancel();
      return { status: 'missing' };
    }
    if (!res.ok) {
      await res.body?.cancel();
      return { status: 'unreachable', reason: `HTTP ${res.status}` };
    }
    try {
      const doc = (await res.json()) as { versions?: Record<string, unknown>; 'dist-tags'?: Record<string, string> };
      return { status: 'found', versions: Object.keys(doc.versions ?? {}), distTags: doc['dist-tags'] ?? {} };
    } catch {
      return { status: 'unreachable', reason: 'the answer was not JSON' };
    }
  }
}
