export { startStack } from './start-stack';
export { startPostgres, makeServerWritable, type RunningPostgres } from './start-postgres';
export { freePort } from './free-port';
export { findServerBinaries } from './find-server-binaries';
export { PortInUseError, assertPortFree } from './assert-port-free';
export { STACK_SERVERS, type RunningStack, type ServerBinaries, type StackOptions, type StackServer } from './stack.types';
export { TEST_HARNESS_IDENTITY, stackNatsCredentials, type StackNatsIdentity, type StackNatsSeeds } from './nats-identities';
export { createScratchDatabase, withPostgresClient, type PostgresClient } from './postgres-client';
