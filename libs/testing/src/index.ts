export * from './stack';
export * from './fakes';
