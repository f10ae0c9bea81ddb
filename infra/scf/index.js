/**
 * Entry Serverless Devs `require`s for `component: ${path('./infra/scf')}`. The component is TypeScript, so
 * tsx's CommonJS loader is registered first (a devDependency: deployments run from a development checkout).
 * Serverless Devs constructs the export with `{ logger }`.
 */

require('tsx/cjs');
const { ScfComponent } = require('./component.ts');

module.exports = class ServerlessDevsScf extends ScfComponent {
  constructor(options = {}) {
    const logger = options.logger;
    super(
      logger && typeof logger.info === 'function'
        ? { logger: { info: (m) => logger.info(m), warn: (m) => (logger.warn ?? logger.info).call(logger, m) } }
        : {},
    );
  }
};
