// One Jest run for the whole workspace: `unit` needs nothing running; `integration` gets a real
// nats-server, PostgreSQL and Redis from tests/support/global-setup.ts.
const fs = require('node:fs');
const path = require('node:path');

const swcrc = JSON.parse(fs.readFileSync(path.join(__dirname, '.swcrc'), 'utf8'));
// Jest resolves aliases itself (moduleNameMapper), so swc must not rewrite them.
delete swcrc.jsc.baseUrl;
delete swcrc.jsc.paths;
delete swcrc.exclude;
const transform = { '^.+\\.(t|j)s$': ['@swc/jest', { ...swcrc, swcrc: false }] };
const moduleNameMapper = {
  '^@overskill/(contracts|messaging|observability|persistence|runtime|testing)$': '<rootDir>/libs/$1/src/index.ts',
  '^@overskill/observability/preload$': '<rootDir>/libs/observability/src/tracing/preload.ts',
  // Without Nest: the test harness leases its ports through it.
  '^@overskill/runtime/port-leases$': '<rootDir>/libs/runtime/src/port-leases.ts',
};
const common = { rootDir: __dirname, testEnvironment: 'node', transform, moduleNameMapper };

module.exports = {
  // One worker: the integration suites share one nats-server/PostgreSQL/Redis (global setup).
  maxWorkers: 1,
  // Jest reads testTimeout from the top level, not from a project: a loaded CI machine needs it.
  testTimeout: 60000,
  projects: [
    {
      ...common,
      displayName: 'unit',
      testMatch: ['<rootDir>/{services,libs,tools}/**/*.spec.ts'],
    },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/tests/{e2e,security,chaos}/**/*.test.ts', '<rootDir>/{services,libs,tools}/**/*.int-spec.ts'],
      globalSetup: '<rootDir>/tests/support/global-setup.ts',
      globalTeardown: '<rootDir>/tests/support/global-teardown.ts',
      testTimeout: 60000,
    },
  ],
};
