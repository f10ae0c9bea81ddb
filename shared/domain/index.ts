/** The domain of wxa-deploy: entities, rules and the deployment state machine. Pure: no I/O. */
export * from './errors';
export * from './common';
export * from './ids';
export * from './account';
export * from './app';
export * from './mini-program';
export * from './plugins';
export * from './rules';
export * from './deployment';
export * from './ext-json';
export * from './privacy-guide';
export * from './server-domains';
