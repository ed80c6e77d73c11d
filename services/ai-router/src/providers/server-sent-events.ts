import type { Readable } from 'node:stream';

export interface ServerSentEvent {
  event: string;
  data: string;
}

/** Parses a text/event-stream body into its events (comments and ids ignored); ends the body when the reader stops early. */
export async function* serverSentEvents(body: Readable): AsyncGenerator<ServerSentEvent> {
  let buffer = '';
  let event = '';
  let data: string[] = [];
  // A decoder keeps a character split across two chunks whole.
  body.setEncoding('utf8');
  try {
    for await (const chunk of body) {
      buffer += chunk as string;
      for (let newline = buffer.indexOf('\n'); newline >= 0; newline = buffer.indexOf('\n')) {
        const line = buffer.slice(0, newline).replace(/\r$/, '');
        buffer = buffer.slice(newline + 1);
        if (line === '') {
          if (data.length) yield { event: event || 'message', data: data.join('\n') };
          event = '';
          data = [];
          continue;
        }
        if (line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'event') event = value;
        else if (field === 'data') data.push(value);
      }
    }
    if (data.length) yield { event: event || 'message', data: data.join('\n') };
  } finally {
    body.destroy();
  }
}
