import type { ReactNode } from 'react';
import { Cell, Column as AriaColumn, Row, Table, TableBody, TableHeader } from 'react-aria-components';

export interface Column<T> {
  id: string;
  header: ReactNode;
  cell: (row: T) => ReactNode;
  className?: string;
  // The column that names the row: a row header for screen readers.
  rowHeader?: boolean;
}

// The console's one table: react-aria-components' grid (labelled; one Tab stop, arrow keys move
// between rows and cells and onto a cell's link or button), inside a wrapper that scrolls
// sideways on its own so the page never does.
export function DataTable<T>({ caption, columns, rows, rowKey }: { caption: string; columns: Array<Column<T>>; rows: T[]; rowKey: (row: T) => string }) {
  const items = rows.map((row) => ({ id: rowKey(row), row }));
  return (
    <div className="table-wrap">
      <Table aria-label={caption}>
        <TableHeader columns={columns}>
          {(c) => (
            <AriaColumn id={c.id} isRowHeader={c.rowHeader}>
              {c.header}
            </AriaColumn>
          )}
        </TableHeader>
        {/* The cells read state the items do not carry (names, permissions): re-render with the columns. */}
        <TableBody items={items} dependencies={[columns]}>
          {(item) => (
            <Row id={item.id} columns={columns} dependencies={[columns]}>
              {(c) => <Cell className={c.className}>{c.cell(item.row)}</Cell>}
            </Row>
          )}
        </TableBody>
      </Table>
    </div>
  );
}
