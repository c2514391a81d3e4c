/** The rotate action: planner (plan.ts), pickup table (reload.ts), the JobSpec (job.ts). */
export * from './job.js';
export * from './plan.js';
export * from './reload.js';
