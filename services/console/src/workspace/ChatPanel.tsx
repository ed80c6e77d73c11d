import { api, query } from '@console/api/client';
import type { ChatMessage, MessageAccepted, Page, Run } from '@console/api/types';
import { can } from '@console/session/permissions';
import { useSession } from '@console/session/session';
import { ErrorNotice, Loading } from '@console/ui/states';
import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useVirtualizer } from '@tanstack/react-virtual';
import { useRef, useState, type FormEvent, type KeyboardEvent } from 'react';
import { RunTimeline } from './RunTimeline';

export function ChatPanel({ appId }: { appId: string }) {
  const { session } = useSession();
  const client = useQueryClient();
  const messages = useInfiniteQuery({
    queryKey: ['messages', appId],
    queryFn: ({ pageParam }) => api<Page<ChatMessage>>(`/api/apps/${appId}/messages${query({ limit: 100, cursor: pageParam })}`),
    initialPageParam: '',
    getNextPageParam: (last) => last.nextCursor ?? undefined,
  });
  const latestRun = useQuery({
    queryKey: ['runs', appId, 'latest'],
    queryFn: () => api<Page<Run>>(`/api/apps/${appId}/runs?limit=1`),
    enabled: can(session, 'readRuns'),
  });
  const [draft, setDraft] = useState('');
  const [activeRun, setActiveRun] = useState<string | null>(null);
  const send = useMutation({
    mutationFn: (content: string) => api<MessageAccepted>(`/api/apps/${appId}/messages`, { method: 'POST', body: { content } }),
    onSuccess: (accepted) => {
      setDraft('');
      setActiveRun(accepted.runId);
      void client.invalidateQueries({ queryKey: ['messages', appId] });
    },
  });
  const submit = (event?: FormEvent) => {
    event?.preventDefault();
    if (draft.trim() && !send.isPending) send.mutate(draft);
  };
  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    // Ctrl/Cmd+Enter sends; Enter alone is a new line.
    if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) submit();
  };
  const all = (messages.data?.pages.flatMap((p) => p.data) ?? []).slice().sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  const runId = activeRun ?? latestRun.data?.data[0]?.id ?? null;
  return (
    <div className="chat card">
      <h2 className="visually-hidden">Conversation</h2>
      {messages.isPending ? <Loading /> : null}
      {messages.error ? <ErrorNotice error={messages.error} onRetry={() => void messages.refetch()} /> : null}
      {messages.hasNextPage ? (
        <button type="button" className="small" onClick={() => void messages.fetchNextPage()}>
          Earlier messages
        </button>
      ) : null}
      {messages.isSuccess && all.length === 0 ? <p className="empty">No messages yet. Tell the agent what to build.</p> : null}
      {all.length > 0 ? <MessageList messages={all} /> : null}
      {runId ? (
        <RunTimeline
          key={runId}
          runId={runId}
          onFinished={() => {
            void client.invalidateQueries({ queryKey: ['messages', appId] });
            void client.invalidateQueries({ queryKey: ['versions', appId] });
            void client.invalidateQueries({ queryKey: ['files', appId] });
          }}
        />
      ) : null}
      {can(session, 'sendMessage') ? (
        <form onSubmit={submit} className="composer">
          <label htmlFor="message" className="visually-hidden">
            Message to the agent
          </label>
          <textarea
            id="message"
            value={draft}
            onChange={(e) => setDraft(e.target.value)}
            onKeyDown={onKeyDown}
            rows={3}
            placeholder="Describe a change… (Ctrl+Enter sends)"
            maxLength={100_000}
          />
          <button type="submit" className="primary" disabled={send.isPending || !draft.trim()}>
            {send.isPending ? 'Sending…' : 'Send'}
          </button>
          {send.error ? <ErrorNotice error={send.error} /> : null}
        </form>
      ) : (
        <p className="small muted">This key can read the conversation but not send messages.</p>
      )}
    </div>
  );
}

// Virtualized: a conversation of thousands of messages renders only what is on screen.
function MessageList({ messages }: { messages: ChatMessage[] }) {
  const parent = useRef<HTMLDivElement>(null);
  const virtual = useVirtualizer({ count: messages.length, getScrollElement: () => parent.current, estimateSize: () => 72, overscan: 8 });
  const items = virtual.getVirtualItems();
  return (
    <div ref={parent} className="messages" role="log" aria-label="Messages" tabIndex={0}>
      <div style={{ height: virtual.getTotalSize(), position: 'relative' }}>
        {(items.length > 0 ? items : messages.slice(0, 30).map((_, index) => ({ index, start: index * 72, key: index }))).map((item) => {
          const m = messages[item.index] as ChatMessage;
          return (
            <div
              key={m.id}
              data-index={item.index}
              ref={virtual.measureElement}
              className={`message ${m.role}`}
              style={{ position: 'absolute', top: 0, left: 0, right: 0, transform: `translateY(${item.start}px)` }}
            >
              <div className="small muted">
                {m.role} · {new Date(m.createdAt).toLocaleTimeString()}
              </div>
              <div className="message-text">{m.content}</div>
            </div>
          );
        })}
      </div>
    </div>
  );
}
