export * from './stack';
export * from './fakes';
export * from './platform';
