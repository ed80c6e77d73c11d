import { useRouter } from '@console/routing/router';
import type { ReactNode } from 'react';
import { Tab, TabList, TabPanel, Tabs } from 'react-aria-components';

// Tabs from react-aria-components whose selection is the address: choosing a tab navigates, so
// a reload or a shared link opens the same tab. Arrow keys move between tabs, Enter or Space
// opens one (manual activation: a panel's data loads only when asked for).
export function RouteTabs({
  label,
  tabs,
  selected,
  header,
  children,
}: {
  label: string;
  tabs: Array<{ id: string; label: string; href: string }>;
  selected: string;
  header?: ReactNode;
  children: ReactNode;
}) {
  const { navigate } = useRouter();
  return (
    <Tabs
      selectedKey={selected}
      keyboardActivation="manual"
      onSelectionChange={(key) => {
        const tab = tabs.find((t) => t.id === key);
        if (tab && key !== selected) navigate(tab.href);
      }}
    >
      <div className="row between wrap">
        {header}
        <TabList aria-label={label} className="tabs">
          {tabs.map((t) => (
            <Tab key={t.id} id={t.id} className="tab">
              {t.label}
            </Tab>
          ))}
        </TabList>
      </div>
      {/* One panel per tab (each tab's aria-controls names its own); only the selected one renders. */}
      {tabs.map((t) => (
        <TabPanel key={t.id} id={t.id} className="tab-panel">
          {t.id === selected ? children : null}
        </TabPanel>
      ))}
    </Tabs>
  );
}
