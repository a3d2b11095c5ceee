export * from './channels';
export * from './schemas';
export type * from './types';
