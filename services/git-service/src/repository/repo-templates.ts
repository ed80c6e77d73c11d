import { EMPTY_TEMPLATE } from './templates/empty.template';
import { STATIC_WEB_TEMPLATE } from './templates/static-web.template';
import { VITE_REACT_TEMPLATE } from './templates/vite-react.template';

// Files a new app starts with, by template name.
export const REPO_TEMPLATES: Record<string, Record<string, string>> = {
  empty: EMPTY_TEMPLATE,
  'static-web': STATIC_WEB_TEMPLATE,
  'vite-react': VITE_REACT_TEMPLATE,
};
