import { addonsFeature } from '../../../src/features/addons/model.js';
import { definePane } from '../types.js';
import {
  combineJobs,
  deriveJobs,
  initialJobsUi,
  type JobsDerived,
  type JobsModel,
  type JobsUi,
  jobsBindings,
  jobsExternal,
} from './bindings.js';
import { JobsPane } from './Pane.js';

export const jobsPane = definePane<JobsModel, JobsUi, JobsDerived>({
  id: 'jobs',
  key: '8',
  title: 'Jobs',
  // Its Addons view (`a`) shows the addons feature: no ninth pane.
  feature: addonsFeature,
  external: jobsExternal,
  combine: combineJobs,
  initial: initialJobsUi,
  derive: deriveJobs,
  bindings: jobsBindings,
  View: ({ model, ui, derived, clock, width, height }) => (
    <JobsPane model={model} ui={ui} derived={derived} clock={clock} width={width} height={height} />
  ),
});
