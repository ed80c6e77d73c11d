import type { RunsRepository } from '../runs/runs.repository';

type Post = Parameters<RunsRepository['insertMessageWithRun']>[0];

// A user's message and its run as the post writes them; the test fails if the post stored nothing.
export async function postedMessage(runs: RunsRepository, post: Post): Promise<{ messageId: string; runId: string; enqueueToken: string }> {
  const created = await runs.insertMessageWithRun(post);
  if (created === null || created === 'no-app') throw new Error(`the post stored nothing (${String(created)})`);
  return created;
}
