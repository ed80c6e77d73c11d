// Infrastructure fault drills run apart from `npm test` (`npm run chaos`): each kills or pauses a
// server under load for minutes. The integration project's transform, aliases and global setup.
const path = require('node:path');
const workspace = require('../../jest.config.js');

const integration = workspace.projects.find((project) => project.displayName === 'integration');
if (!integration) throw new Error('jest.config.js has no "integration" project to take the chaos setup from');

module.exports = {
  ...integration,
  displayName: 'chaos',
  rootDir: path.resolve(__dirname, '../..'),
  testMatch: ['<rootDir>/tests/chaos/**/*.chaos.ts'],
  testTimeout: 15 * 60 * 1000,
};
