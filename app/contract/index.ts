export * from './channels';
export * from './commands';
export * from './history';
export * from './meeting';
export * from './problemError';
export * from './schemas';
export * from './settings';
export type * from './types';
export * from './screen';
