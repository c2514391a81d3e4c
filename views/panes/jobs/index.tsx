import { definePane } from '../types.js';
import { deriveJobs, initialJobsUi, jobsBindings, jobsExternal } from './bindings.js';
import { JobsPane } from './Pane.js';

export const jobsPane = definePane({
  id: 'jobs',
  key: '8',
  title: 'Jobs',
  external: jobsExternal,
  initial: initialJobsUi,
  derive: deriveJobs,
  bindings: jobsBindings,
  View: ({ model, ui, derived, clock, width, height }) => (
    <JobsPane model={model} ui={ui} derived={derived} clock={clock} width={width} height={height} />
  ),
});
