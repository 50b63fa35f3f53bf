import { dropStaleTestDatabases, dropTestDatabases } from './database.js';

/**
 * Mocha root hooks for the PostgreSQL pass (npm run test:pg): the databases of data
 * directories a test removed are dropped after each test, the rest after the run, and
 * databases left by a run that died are dropped before this one starts.
 */
export const mochaHooks = {
  async beforeAll(): Promise<void> {
    await dropStaleTestDatabases();
  },
  async afterEach(): Promise<void> {
    await dropTestDatabases();
  },
  async afterAll(): Promise<void> {
    await dropTestDatabases({ all: true });
  },
};
