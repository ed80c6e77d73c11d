import { Inject, Injectable } from '@nestjs/common';
import { AppError, ErrorCode } from '@overskill/contracts';
import { TOOL_RUNNER_ENV, type ToolRunnerEnv } from '../config';

export interface WebSearchResult {
  title: string;
  url: string;
  snippet: string;
}

type SearchEnv = Pick<ToolRunnerEnv, 'TOOL_WEB_SEARCH_PROVIDER' | 'TOOL_WEB_SEARCH_URL' | 'TOOL_WEB_SEARCH_API_KEY' | 'TOOL_FETCH_TIMEOUT_MS'>;

const BRAVE_URL = 'https://api.search.brave.com/res/v1/web/search';

// The operator's search provider. Its address is configuration, not model input, so it is
// called directly rather than through the SSRF guard (a self-hosted SearXNG may well be private).
@Injectable()
export class WebSearchRepository {
  constructor(@Inject(TOOL_RUNNER_ENV) private readonly env: SearchEnv) {}

  async search(query: string, count: number): Promise<WebSearchResult[]> {
    const provider = this.env.TOOL_WEB_SEARCH_PROVIDER;
    if (!provider) {
      throw new AppError(
        ErrorCode.TOOL_NOT_CONFIGURED,
        'Web search is not configured on this platform (an operator sets TOOL_WEB_SEARCH_PROVIDER); answer from what you know or fetch a known URL with fetch_website',
      );
    }
    if (provider === 'brave') {
      const url = new URL(this.env.TOOL_WEB_SEARCH_URL ?? BRAVE_URL);
      url.searchParams.set('q', query);
      url.searchParams.set('count', String(count));
      const body = (await this.getJson(url, { 'x-subscription-token': this.env.TOOL_WEB_SEARCH_API_KEY ?? '' })) as {
        web?: { results?: Array<{ title?: string; url?: string; description?: string }> };
      };
      return (body.web?.results ?? []).slice(0, count).map((r) => ({ title: plain(r.title), url: r.url ?? '', snippet: plain(r.description) }));
    }
    // Config validation requires the URL for searxng.
    const url = new URL('search', ensureSlash(this.env.TOOL_WEB_SEARCH_URL ?? ''));
    url.searchParams.set('q', query);
    url.searchParams.set('format', 'json');
    const body = (await this.getJson(url, this.env.TOOL_WEB_SEARCH_API_KEY ? { authorization: `Bearer ${this.env.TOOL_WEB_SEARCH_API_KEY}` } : {})) as {
      results?: Array<{ title?: string; url?: string; content?: string }>;
    };
    return (body.results ?? []).slice(0, count).map((r) => ({ title: plain(r.title), url: r.url ?? '', snippet: plain(r.content) }));
  }

  private async getJson(url: URL, headers: Record<string, string>): Promise<unknown> {
    let res: Response;
    try {
      res = await fetch(url, {
        headers: { accept: 'application/json', ...headers },
        signal: AbortSignal.timeout(this.env.TOOL_FETCH_TIMEOUT_MS),
        redirect: 'error',
      });
    } catch (err) {
      const timedOut = (err as Error).name === 'TimeoutError';
      throw new AppError(
        timedOut ? ErrorCode.TOOL_FETCH_TIMEOUT : ErrorCode.TOOL_FETCH_FAILED,
        `The search provider ${timedOut ? 'did not answer in time' : 'could not be reached'}`,
      );
    }
    if (!res.ok) {
      await res.body?.cancel();
      throw new AppError(ErrorCode.TOOL_FETCH_FAILED, `The search provider answered HTTP ${res.status}`);
    }
    try {
      return await res.json();
    } catch {
      throw new AppError(ErrorCode.TOOL_FETCH_FAILED, 'The search provider answered something that is not JSON');
    }
  }
}

function ensureSlash(base: string): string {
  return base.endsWith('/') ? base : `${base}/`;
}

// Providers mark matches with <strong>; the model wants plain text.
function plain(text: string | undefined): string {
  return (text ?? '')
    .replace(/<[^>]+>/g, '')
    .replace(/\s+/g, ' ')
    .trim();
}
