export * from './launch-platform';
