import { fireEvent, render, screen } from '@testing-library/react';
import { describe, expect, it, vi } from 'vitest';
import { Router, useRouter } from '../routing/router';
import { RouteTabs } from './RouteTabs';

function Screen() {
  const { path } = useRouter();
  const selected = path.split('/').pop() || 'one';
  return (
    <RouteTabs
      label="Sections"
      selected={selected}
      tabs={[
        { id: 'one', label: 'One', href: '/s/one' },
        { id: 'two', label: 'Two', href: '/s/two' },
      ]}
    >
      <p>panel {selected}</p>
    </RouteTabs>
  );
}

describe('<RouteTabs>', () => {
  it('marks the tab of the address selected, navigates on a choice, and ties each tab to its panel', () => {
    window.scrollTo = vi.fn() as unknown as typeof window.scrollTo;
    window.history.replaceState(null, '', '/s/one');
    render(
      <Router>
        <Screen />
      </Router>,
    );
    expect(screen.getByRole('tablist', { name: 'Sections' })).toBeTruthy();
    expect(screen.getByRole('tab', { name: 'One' }).getAttribute('aria-selected')).toBe('true');
    expect(screen.getByRole('tabpanel').textContent).toBe('panel one');
    fireEvent.mouseDown(screen.getByRole('tab', { name: 'Two' }));
    fireEvent.mouseUp(screen.getByRole('tab', { name: 'Two' }));
    fireEvent.click(screen.getByRole('tab', { name: 'Two' }));
    expect(window.location.pathname).toBe('/s/two');
    const two = screen.getByRole('tab', { name: 'Two' });
    expect(two.getAttribute('aria-selected')).toBe('true');
    const panel = screen.getByRole('tabpanel');
    expect(panel.textContent).toBe('panel two');
    expect(two.getAttribute('aria-controls')).toBe(panel.id);
  });
});
