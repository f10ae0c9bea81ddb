/** Go-live readiness: the report, the gates the pipeline calls, and the fixes by API (issue 18). */
export * from './actions';
export * from './hand-over';
export * from './reports';
