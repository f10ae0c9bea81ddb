/** The domain of wxa-deploy: entities, rules and the deployment state machine. Pure: no I/O. */

export * from './account';
export * from './app';
export * from './common';
export * from './deployment';
export * from './errors';
export * from './ext-json';
export * from './ids';
export * from './mini-program';
export * from './plugins';
export * from './privacy-guide';
export * from './rules';
export * from './server-domains';
