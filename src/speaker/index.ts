// The speaker's pure core: the announcement plan and its explanation.
export { planAnnouncements, sessionFamilies, type PlanInput, type PlanOptions } from './plan.ts';
export { explainService } from './explain.ts';
export { endpointCanServe } from './eligibility.ts';
export * from './plan-types.ts';
