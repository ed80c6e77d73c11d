import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { toolRunnerEnvSchema } from '../config';
import { TOOL_CATALOG } from './tool-catalog';
import { DOCS_BEGIN, DOCS_END, renderToolTable } from './tool-docs';
import { TOOL_NAMES } from './tool-names';

const DOC = join(__dirname, '../../../../docs/tool-runner.md');

describe('docs/tool-runner.md', () => {
  const doc = readFileSync(DOC, 'utf8');

  it('holds the table generated from the tool definitions (node services/tool-runner/scripts/write-tool-docs.mjs)', () => {
    const generated = doc.slice(doc.indexOf(DOCS_BEGIN), doc.indexOf(DOCS_END) + DOCS_END.length);
    expect(generated).toBe(renderToolTable(toolRunnerEnvSchema.parse({ WORKSPACES_DIR: '/srv/workspaces' })));
  });

  it('lists every tool of the seed exactly once, each with one definition', () => {
    expect([...TOOL_CATALOG.keys()]).toEqual([...TOOL_NAMES]);
    for (const name of TOOL_NAMES) expect(doc.split(`| \`${name}\` |`)).toHaveLength(2);
  });
});
