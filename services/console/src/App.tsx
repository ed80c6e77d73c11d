import { AppsScreen } from '@console/apps/AppsScreen';
import { Link, matchPath, Router, useRouter } from '@console/routing/router';
import { can } from '@console/session/permissions';
import { SessionGate, useSession } from '@console/session/session';
import { SignIn } from '@console/session/SignIn';
import { Suspense, useEffect } from 'react';
import { preloadable } from '@console/ui/preloadable';
import { Loading } from '@console/ui/states';

// The workspace is its own chunk: the apps list and sign-in load without it. Opened directly
// (a link to an app), it is fetched at once, while the session is still being checked.
const { Component: Workspace, preload: preloadWorkspace } = preloadable(() => import('@console/workspace/Workspace'));
if (window.location.pathname.startsWith('/apps/')) void preloadWorkspace();
// Admin and projects are their own chunks too (with the table, tabs and menu components they
// use): the first screen after sign-in is the apps list.
const { Component: AdminScreen } = preloadable(async () => ({ default: (await import('@console/admin/AdminScreen')).AdminScreen }));
const { Component: ProjectsScreen } = preloadable(async () => ({ default: (await import('@console/projects/ProjectsScreen')).ProjectsScreen }));
const { Component: ProjectDetail } = preloadable(async () => ({ default: (await import('@console/projects/ProjectDetail')).ProjectDetail }));
const { Component: TaskDetail } = preloadable(async () => ({ default: (await import('@console/projects/TaskDetail')).TaskDetail }));

export function App() {
  return (
    <Router>
      <SessionGate signIn={(props) => <SignIn {...props} />}>
        <Shell />
      </SessionGate>
    </Router>
  );
}

function Shell() {
  const { session, signOut } = useSession();
  const { path, navigate } = useRouter();
  useEffect(() => {
    if (path === '/' || path === '') navigate('/apps', { replace: true });
  }, [path, navigate]);
  const workspace = matchPath('/apps/:appId/:tab?', path);
  const admin = matchPath('/admin/:section?', path);
  const project = matchPath('/projects/:projectId', path);
  const task = matchPath('/tasks/:taskId', path);
  const showAdmin = can(session, 'manageKeys') || can(session, 'readAudit') || can(session, 'readAdmin');
  return (
    <div className="shell">
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <Link to="/apps" className="brand">
          overskill
        </Link>
        <nav aria-label="Main">
          <Link to="/apps" aria-current={path.startsWith('/apps') ? 'page' : undefined}>
            Apps
          </Link>
          {can(session, 'readProjects') ? (
            <Link to="/projects" aria-current={path.startsWith('/projects') || path.startsWith('/tasks') ? 'page' : undefined}>
              Projects
            </Link>
          ) : null}
          {showAdmin ? (
            <Link to="/admin/keys" aria-current={path.startsWith('/admin') ? 'page' : undefined}>
              Admin
            </Link>
          ) : null}
        </nav>
        <span className="who small" title={`Key ${session.keyPrefix}`}>
          {session.role}
          {session.scopes.length > 0 ? ` (${session.scopes.length} scopes)` : ''}
        </span>
        <button type="button" onClick={() => void signOut()}>
          Sign out
        </button>
      </header>
      <main id="main" tabIndex={-1}>
        <Suspense fallback={<Loading label={workspace ? 'Loading the workspace…' : 'Loading…'} />}>
          {workspace ? (
            <Workspace appId={workspace['appId'] as string} tab={workspace['tab'] ?? 'chat'} />
          ) : admin ? (
            <AdminScreen section={admin['section'] ?? 'keys'} />
          ) : project ? (
            <ProjectDetail key={project['projectId']} projectId={project['projectId'] as string} />
          ) : task ? (
            <TaskDetail key={task['taskId']} taskId={task['taskId'] as string} />
          ) : path === '/projects' ? (
            <ProjectsScreen />
          ) : path === '/apps' ? (
            <AppsScreen />
          ) : path === '/' ? null : (
            <section>
              <h1>Not found</h1>
              <p>
                Nothing lives at <code>{path}</code>. <Link to="/apps">Back to your apps</Link>
              </p>
            </section>
          )}
        </Suspense>
      </main>
    </div>
  );
}
