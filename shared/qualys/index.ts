export type * from './contracts';
export * from './qscanner-runner';
export * from './qscanner-report';
