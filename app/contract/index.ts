export * from './channels';
export * from './commands';
export * from './schemas';
export type * from './types';
