// Benchmarks run apart from `npm test` (deploy/local/bench.mjs): the integration project's
// transform, path aliases and global setup (a real stack), with their own file pattern.
const path = require('node:path');
const workspace = require('../../jest.config.js');

const integration = workspace.projects.find((project) => project.displayName === 'integration');
if (!integration) throw new Error('jest.config.js has no "integration" project to take the benchmark setup from');

module.exports = {
  ...integration,
  displayName: 'bench',
  rootDir: path.resolve(__dirname, '../..'),
  testMatch: ['<rootDir>/tests/bench/**/*.bench.ts'],
  // A benchmark measures for a while; each bounds its own run time.
  testTimeout: 15 * 60 * 1000,
};
