export * from './image-reference';
export * from './storage-keys';
export * from './scan-result';
export * from './severity';
export * from './config';
export * from './qualys';
export * from './poll-policy';
