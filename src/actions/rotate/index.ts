/**
 * The rotate actions: a node's leaves (planner plan.ts, the JobSpec job.ts), an intermediate CA
 * (ca.ts) and the service-account keys (sa.ts); the pickup table (reload.ts) and the units'
 * restart-and-gate step they share (units.ts).
 */

export * from './ca.js';
export * from './job.js';
export * from './plan.js';
export * from './reload.js';
export * from './sa.js';
export * from './units.js';
