export * from './types';
export * from './allow-lists';
