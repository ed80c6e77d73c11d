import type { Project, Task } from '@console/api/types';
import { Link } from '@console/routing/router';
import { DataTable } from '@console/ui/DataTable';
import { groupTasks, priorityName, STATUS_LABEL } from './project-model';

// Tasks by state, each state's tasks highest priority first.
export function TaskQueue({ tasks, projects, label }: { tasks: Task[]; projects: Map<string, Project>; label: string }) {
  return (
    <div className="stack">
      {groupTasks(tasks).map((group) => (
        <section key={group.status} aria-label={`${label}: ${STATUS_LABEL[group.status]}`}>
          <h3>
            {STATUS_LABEL[group.status]} <span className="badge">{group.tasks.length}</span>
          </h3>
          <DataTable
            caption={`${label}: ${STATUS_LABEL[group.status]}`}
            rows={group.tasks}
            rowKey={(t) => t.id}
            columns={[
              {
                id: 'task',
                header: 'Issue',
                rowHeader: true,
                cell: (t) => (
                  <Link to={`/tasks/${t.id}`}>
                    #{t.issueNumber} {t.title}
                  </Link>
                ),
              },
              { id: 'repo', header: 'Repository', cell: (t) => <code>{t.repository}</code> },
              { id: 'priority', header: 'Priority', cell: (t) => priorityName(t.priority, projects.get(t.projectId)) },
              { id: 'updated', header: 'Updated', className: 'small', cell: (t) => new Date(t.updatedAt).toLocaleString() },
            ]}
          />
        </section>
      ))}
    </div>
  );
}
