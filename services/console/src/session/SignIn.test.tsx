import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { fireEvent, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AppsScreen } from '../apps/AppsScreen';
import { json, mockFetch, renderSignedIn, session } from '../test-utils';
import { SignIn } from './SignIn';

afterEach(() => {
  vi.unstubAllGlobals();
  localStorage.clear();
  sessionStorage.clear();
});

describe('sign-in', () => {
  it('sends the key once in the body, keeps nothing in storage, and shows a refusal with its correlation id', async () => {
    const { calls } = mockFetch({
      'POST /api/session': () => json({ code: 'UNAUTHENTICATED', message: 'A valid API key is required', correlationId: 'corr-9' }, 401),
    });
    const onSignedIn = vi.fn();
    render(
      <QueryClientProvider client={new QueryClient()}>
        <SignIn onSignedIn={onSignedIn} notice={null} />
      </QueryClientProvider>,
    );
    fireEvent.change(screen.getByLabelText('API key'), { target: { value: 'osk_wrong' } });
    fireEvent.click(screen.getByRole('button', { name: 'Sign in' }));
    await screen.findByText(/A valid API key is required/);
    expect(screen.getByText('corr-9')).toBeTruthy();
    expect(JSON.parse(String(calls[0]!.init.body))).toEqual({ key: 'osk_wrong' });
    expect(onSignedIn).not.toHaveBeenCalled();
    expect(localStorage.length + sessionStorage.length).toBe(0);
  });

  it('returns to the sign-in form with a notice when a request answers 401 (session ended)', async () => {
    mockFetch({
      'GET /api/session': () => json(session('member')),
      'GET /api/apps': () => json({ code: 'UNAUTHENTICATED', message: 'A valid API key is required', correlationId: 'c' }, 401),
    });
    renderSignedIn(<AppsScreen />);
    await screen.findByText('signed out: Your session ended (it expired or its key was revoked). Sign in again.');
  });
});
